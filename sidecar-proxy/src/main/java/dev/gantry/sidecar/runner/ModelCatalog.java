package dev.gantry.sidecar.runner;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.inference.ModelMetadataResponse;
import io.vertx.core.Future;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Model metadata (inputs, datatypes, shapes, column order) fetched from the runner and kept for a
 * short while, so that adapters can map named columns and plain arrays onto a model's tensors
 * without asking the runner on every request. Failures are not kept.
 */
public final class ModelCatalog {
  private static final long TTL_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final RunnerConnection runner;
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();

  private record Entry(Future<ModelMetadataResponse> metadata, long fetchedAt) {}

  public ModelCatalog(RunnerConnection runner) {
    this.runner = requireNonNull(runner, "runner");
  }

  /** Metadata of a model ("" version: the newest the runner serves). */
  public Future<ModelMetadataResponse> metadata(String model, String version) {
    String key = model + "\u0000" + version;
    long now = System.nanoTime();
    Entry e = entries.get(key);
    if (e != null && now - e.fetchedAt < TTL_NANOS && !e.metadata.failed()) {
      return e.metadata;
    }
    Future<ModelMetadataResponse> f = runner.metadata(model, version);
    entries.put(key, new Entry(f, now));
    f.onFailure(err -> entries.remove(key));
    return f;
  }

  /** Forgets everything (the runner restarted or reloaded models). */
  public void clear() {
    entries.clear();
  }
}
