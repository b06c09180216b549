package dev.gantry.sidecar.runner;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.inference.ModelMetadataResponse;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Model metadata (inputs, datatypes, shapes, column order) fetched from the runner and kept, so
 * that adapters can map named columns and plain arrays onto a model's tensors without asking the
 * runner on every request.
 *
 * <ul>
 *   <li>An entry lives until the runner's served versions of its model change (the health probe
 *       calls {@link #invalidate}), readiness changes, or a request pinned to its version finds
 *       that version gone; a long TTL is only a safety net.
 *   <li>Only answers are kept, and only under the version's own name ("" or a version the runner
 *       lists), so names and spellings sent by callers ({@code 0001}, {@code +1}) cannot grow it.
 *   <li>Each caller's continuation runs on the caller's own event loop, never on the loop that
 *       happened to fetch the entry.
 * </ul>
 */
public final class ModelCatalog {
  private static final long TTL_NANOS = TimeUnit.SECONDS.toNanos(60);
  static final int MAX_ENTRIES = 1024;

  private final RunnerConnection runner;
  private final long timeoutNanos;
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();
  private final Map<String, Future<ModelMetadataResponse>> fetching = new ConcurrentHashMap<>();
  private final AtomicLong generation = new AtomicLong();

  private record Entry(ModelMetadataResponse metadata, long fetchedAt) {}

  /** @param timeoutNanos deadline of one metadata fetch */
  public ModelCatalog(RunnerConnection runner, long timeoutNanos) {
    this.runner = requireNonNull(runner, "runner");
    this.timeoutNanos = timeoutNanos;
  }

  /** Metadata of a model ("" version: the newest the runner serves; see {@link #describedVersion}). */
  public Future<ModelMetadataResponse> metadata(String model, String version) {
    String key = model + "\u0000" + version;
    Entry e = entries.get(key);
    if (e != null && System.nanoTime() - e.fetchedAt < TTL_NANOS) {
      return Future.succeededFuture(e.metadata);
    }
    Future<ModelMetadataResponse> shared = fetching.computeIfAbsent(key, k -> fetch(k, model, version));
    return onCallersContext(shared);
  }

  private Future<ModelMetadataResponse> fetch(String key, String model, String version) {
    long fetchedIn = generation.get();
    return runner.metadata(model, version, timeoutNanos).andThen(ar -> {
      fetching.remove(key);
      if (ar.succeeded() && fetchedIn == generation.get()
          && (version.isEmpty() || ar.result().getVersionsList().contains(version))) {
        if (entries.size() >= MAX_ENTRIES) {
          entries.clear();
        }
        entries.put(key, new Entry(ar.result(), System.nanoTime()));
      }
    });
  }

  private static <T> Future<T> onCallersContext(Future<T> shared) {
    Context caller = Vertx.currentContext();
    if (caller == null || shared.isComplete()) {
      return shared.isComplete() ? (shared.succeeded() ? Future.succeededFuture(shared.result())
          : Future.failedFuture(shared.cause())) : shared;
    }
    Promise<T> own = Promise.promise();
    shared.onComplete(ar -> caller.runOnContext(v -> own.handle(ar)));
    return own.future();
  }

  /**
   * The version whose signature a metadata answer describes: the one asked for, or for "" the
   * newest the runner serves (the runner resolves "" to its newest version).
   */
  public static String describedVersion(ModelMetadataResponse metadata, String asked) {
    if (!asked.isEmpty()) {
      return asked;
    }
    String newest = "";
    long best = Long.MIN_VALUE;
    for (String v : metadata.getVersionsList()) {
      try {
        long n = Long.parseLong(v);
        if (n > best) {
          best = n;
          newest = v;
        }
      } catch (NumberFormatException e) {
        // not a numbered version: cannot be the newest
      }
    }
    return newest;
  }

  /** Forgets what is known of one model (its served versions changed). */
  public void invalidate(String model) {
    generation.incrementAndGet();
    entries.keySet().removeIf(k -> k.startsWith(model + "\u0000"));
  }

  /** Forgets everything (the runner restarted, or readiness changed). */
  public void clear() {
    generation.incrementAndGet();
    entries.clear();
  }

  /** Entries held now. */
  public int size() {
    return entries.size();
  }
}
