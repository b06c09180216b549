package dev.gantry.runner.lifecycle;

import static java.util.Objects.requireNonNull;

import dev.gantry.runner.engine.EngineLoader;
import dev.gantry.runner.inference.ErrorKind;
import dev.gantry.runner.inference.InferRequest;
import dev.gantry.runner.inference.InferResult;
import dev.gantry.runner.inference.InferenceException;
import dev.gantry.runner.inference.RequestDecoder;
import dev.gantry.runner.metrics.RunnerMetrics;
import dev.gantry.runner.repository.ConfigException;
import dev.gantry.runner.repository.ModelDefinition;
import dev.gantry.runner.repository.ModelRepository;
import dev.gantry.runner.repository.SourcedModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads, reloads and unloads models and routes requests to their served versions.
 *
 * <p>Loads and unloads run one at a time on a loader thread. A reload brings the new versions up
 * and warms them before swapping them in; the old versions then drain. Requests never wait on a
 * load: they see either the old or the new versions.
 */
public final class ModelManager implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelManager.class);

  private final ModelRepository repository;
  private final EngineLoader loader;
  private final RunnerMetrics metrics;
  private final ScheduledExecutorService timers;
  private final long workerSpinNanos;
  private final ExecutorService loaderThread;
  private final Map<String, Slot> slots = new ConcurrentHashMap<>();
  private volatile boolean stopping;
  /** The repository's model names as last listed; read on the request path, which must not touch disk. */
  private volatile java.util.Set<String> knownNames;

  public ModelManager(ModelRepository repository, EngineLoader loader, RunnerMetrics metrics,
      ScheduledExecutorService timers) {
    this(repository, loader, metrics, timers, Duration.ZERO);
  }

  /**
   * @param workerSpin how long a batcher's worker that finds its queue empty spins before it parks
   *     ({@code --worker-spin-us}); zero parks at once
   */
  public ModelManager(ModelRepository repository, EngineLoader loader, RunnerMetrics metrics,
      ScheduledExecutorService timers, Duration workerSpin) {
    if (workerSpin.isNegative()) {
      throw new IllegalArgumentException("workerSpin must not be negative, got " + workerSpin);
    }
    this.workerSpinNanos = workerSpin.toNanos();
    this.repository = requireNonNull(repository, "repository");
    this.loader = requireNonNull(loader, "loader");
    this.metrics = requireNonNull(metrics, "metrics");
    this.timers = requireNonNull(timers, "timers");
    this.loaderThread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "gantry-model-loader");
      t.setDaemon(true);
      return t;
    });
    this.knownNames = java.util.Set.copyOf(repository.modelNames());
  }

  /** Lists the repository again (blocking: call off the event loop). */
  private List<String> relist() {
    List<String> names = repository.modelNames();
    knownNames = java.util.Set.copyOf(names);
    return names;
  }

  /** Whether the repository held this model when it was last listed. Does not touch disk. */
  public boolean knows(String name) {
    return knownNames.contains(name);
  }

  public ModelRepository repository() {
    return repository;
  }

  /**
   * Loads a model, or reloads it from disk if it is loaded.
   *
   * @return completes when the model's versions are READY; fails with an {@link InferenceException}
   */
  public CompletableFuture<List<ServedVersion>> load(String name) {
    return CompletableFuture.supplyAsync(() -> doLoad(name, false), loaderThread);
  }

  /**
   * Brings a model named by URI to what its source names now: its current version and, while a rollout decides about
   * one, its candidate. A version already serving is kept as it is (a registry version's files never change); the
   * others are loaded and warmed before they take requests, and versions no longer named drain.
   *
   * @return completes when the named versions are READY; fails with an {@link InferenceException}
   */
  public CompletableFuture<List<ServedVersion>> refresh(String name) {
    return CompletableFuture.supplyAsync(() -> doLoad(name, true), loaderThread);
  }

  /**
   * Unloads a model once its in-flight requests are answered.
   *
   * @return completes when the model is gone
   */
  public CompletableFuture<Void> unload(String name) {
    return CompletableFuture.supplyAsync(() -> {
      relist();
      Slot slot = slots.get(name);
      if (slot == null) {
        if (!knows(name)) {
          throw InferenceException.notFound("unknown model '" + name + "'");
        }
        return CompletableFuture.<Void>completedFuture(null);
      }
      slot.wanted = false;
      slot.state = ModelState.UNLOADING;
      long generation = ++slot.generation;
      Retiring old = new Retiring(slot.serving.values());
      slot.serving = Collections.emptyNavigableMap();
      // back on the loader thread, and only if no load came since: a late drain must not overwrite it
      return old.retireAll().handleAsync((v, e) -> {
        if (slot.generation == generation) {
          slot.state = ModelState.UNAVAILABLE;
          slot.reason = "unloaded";
        }
        LOG.info("event=model_unloaded model={}", name);
        return (Void) null;
      }, loaderThread);
    }, loaderThread).thenCompose(f -> f);
  }

  private List<ServedVersion> doLoad(String name, boolean keepServing) {
    relist();
    if (!knows(name)) {
      // checked before the model's slot is touched: a made-up name must not flip readiness
      forgetIfNothingServed(name);
      InferenceException failure = InferenceException.notFound("unknown model '" + name + "': no folder with a"
          + " config.yaml or MLmodel in " + repository.describe());
      LOG.error("event=model_load_failed model={} reason=\"{}\"", name, failure.getMessage());
      throw failure;
    }
    Slot slot = slots.computeIfAbsent(name, n -> new Slot());
    slot.generation++;
    slot.wanted = true;
    slot.state = ModelState.LOADING;
    List<ServedVersion> started = new ArrayList<>();
    NavigableMap<Long, ServedVersion> fresh = new TreeMap<>();
    Long defaultVersion = null;
    try {
      List<ModelDefinition> defs = new ArrayList<>();
      defs.add(repository.read(name));
      repository.readCandidate(name).ifPresent(defs::add);
      defaultVersion = repository.source(name).map(SourcedModels.Sourced::version).orElse(null);
      for (ModelDefinition def : defs) {
        for (Map.Entry<Long, Path> v : def.versions().entrySet()) {
          ServedVersion kept = keepServing ? slot.serving.get(v.getKey()) : null;
          if (kept != null) {
            fresh.put(v.getKey(), kept);
          } else {
            ServedVersion s = ServedVersion.start(def.config(), v.getKey(), v.getValue(), loader, metrics, timers,
                workerSpinNanos);
            started.add(s);
            fresh.put(v.getKey(), s);
          }
        }
      }
    } catch (RuntimeException | Error e) {
      // an Error too: the state must not stay LOADING, nor the started versions stay loaded
      new Retiring(started).retireAll();
      InferenceException failure = loadFailure(name, e);
      slot.reason = failure.getMessage();
      slot.state = slot.serving.isEmpty() ? ModelState.UNAVAILABLE : ModelState.READY;
      LOG.error("event=model_load_failed model={} reason=\"{}\"", name, failure.getMessage(), e);
      throw failure;
    }
    Retiring old = new Retiring(slot.serving.values().stream().filter(v -> fresh.get(v.version()) != v).toList());
    slot.defaultVersion = defaultVersion;
    slot.serving = Collections.unmodifiableNavigableMap(fresh);
    started.forEach(ServedVersion::activate);
    slot.state = ModelState.READY;
    slot.reason = "";
    old.retireAll();
    for (ServedVersion s : started) {
      LOG.info("event=model_ready model={} version={} engine={} device={} load_ms={} warmup_ms={}", name,
          s.version(), s.loaded().engineName(), s.loaded().device(), s.loadTime().toMillis(),
          s.warmupTime().toMillis());
    }
    return started;
  }

  /** A model whose folder is gone and that serves nothing is no longer waited for. */
  private void forgetIfNothingServed(String name) {
    Slot slot = slots.get(name);
    if (slot != null && slot.serving.isEmpty() && slot.state != ModelState.UNLOADING) {
      slots.remove(name, slot);
    }
  }

  private static InferenceException loadFailure(String name, Throwable e) {
    if (e instanceof InferenceException ie) {
      return ie;
    }
    if (e instanceof ConfigException) {
      return new InferenceException(ErrorKind.INVALID_ARGUMENT, "failed to load model '" + name + "': "
          + e.getMessage(), e);
    }
    return new InferenceException(ErrorKind.INTERNAL, "failed to load model '" + name + "': " + e, e);
  }

  /**
   * Runs a decoded request on a model version ("" for the newest served).
   *
   * @return the result; fails with an {@link InferenceException}
   */
  public CompletableFuture<InferResult> infer(String name, String version, InferRequest request) {
    return infer(name, version, RequestDecoder.of(request));
  }

  /**
   * Looks the model version up ("" for the newest served), then decodes the request against its
   * signature and runs it. Cancelling the returned future takes the request out of the queue.
   *
   * @return the result; fails with an {@link InferenceException}
   */
  public CompletableFuture<InferResult> infer(String name, String version, RequestDecoder decoder) {
    for (int attempt = 0; attempt < 3; attempt++) {
      ServedVersion v;
      try {
        v = resolve(name, version);
      } catch (InferenceException e) {
        return CompletableFuture.failedFuture(e);
      }
      if (v.tryAcquire()) {
        CompletableFuture<InferResult> result;
        try {
          result = v.infer(decoder);
        } catch (RuntimeException e) {
          v.release();
          return CompletableFuture.failedFuture(InferenceException.of(e));
        }
        // on the result itself: an action on a derived future is skipped when that one is cancelled
        result.whenComplete((r, e) -> v.release());
        return result;
      }
    }
    return CompletableFuture.failedFuture(InferenceException.unavailable("model '" + name + "' is being unloaded"));
  }

  /**
   * The served version for a request.
   *
   * @throws InferenceException NOT_FOUND for an unknown model or version, UNAVAILABLE when not loaded
   */
  public ServedVersion resolve(String name, String version) {
    Slot slot = slots.get(name);
    NavigableMap<Long, ServedVersion> serving = slot == null ? Collections.emptyNavigableMap() : slot.serving;
    if (serving.isEmpty()) {
      if (slot == null && !knows(name)) {
        throw InferenceException.notFound("unknown model '" + name + "'");
      }
      String why = slot == null ? "it was never loaded" : slot.state + (slot.reason.isEmpty() ? "" : ": " + slot.reason);
      throw InferenceException.unavailable("model '" + name + "' is not loaded (" + why + ")");
    }
    if (version == null || version.isEmpty()) {
      // the source's current version while a candidate serves beside it; else the newest
      Long preferred = slot.defaultVersion;
      ServedVersion v = preferred == null ? null : serving.get(preferred);
      return servable(v != null ? v : serving.lastEntry().getValue());
    }
    ServedVersion v = null;
    try {
      v = serving.get(Long.parseLong(version));
    } catch (NumberFormatException e) {
      // falls through to NOT_FOUND
    }
    if (v == null) {
      throw InferenceException.notFound("model '" + name + "' has no version '" + version + "'; served versions: "
          + serving.keySet());
    }
    return servable(v);
  }

  private static ServedVersion servable(ServedVersion v) {
    if (!v.canServe()) {
      throw InferenceException.unavailable("model '" + v.model() + "' version " + v.version() + " cannot serve: "
          + v.failure());
    }
    return v;
  }

  /** Served versions of a model, oldest first; empty when not loaded. */
  public List<ServedVersion> served(String name) {
    Slot slot = slots.get(name);
    return slot == null ? List.of() : List.copyOf(slot.serving.values());
  }

  public boolean modelReady(String name, String version) {
    if (stopping) {
      return false;
    }
    try {
      resolve(name, version);
      return true;
    } catch (InferenceException e) {
      return false;
    }
  }

  /**
   * True when every model asked to be loaded serves at least one version and every served version
   * has an instance left to run it; false from {@link #stopServing()} on.
   */
  public boolean ready() {
    if (stopping) {
      return false;
    }
    for (Slot slot : slots.values()) {
      boolean serves = !slot.serving.isEmpty() && slot.serving.values().stream().allMatch(ServedVersion::canServe);
      if (slot.wanted && !serves) {
        return false;
      }
    }
    return true;
  }

  /** What the repository holds and the state of each model and version. Lists the repository: blocking. */
  public List<IndexEntry> index(boolean readyOnly) {
    List<IndexEntry> entries = new ArrayList<>();
    for (String name : relist()) {
      Slot slot = slots.get(name);
      if (slot == null || slot.serving.isEmpty()) {
        if (!readyOnly) {
          ModelState state = slot == null ? ModelState.UNAVAILABLE : slot.state;
          entries.add(new IndexEntry(name, "", state, slot == null ? "not loaded" : slot.reason));
        }
        continue;
      }
      for (ServedVersion v : slot.serving.values()) {
        entries.add(new IndexEntry(name, Long.toString(v.version()), ModelState.READY, ""));
      }
      if (!readyOnly && slot.state == ModelState.LOADING) {
        entries.add(new IndexEntry(name, "", ModelState.LOADING, "reloading"));
      }
    }
    return entries;
  }

  public Optional<String> failure(String name) {
    Slot slot = slots.get(name);
    return slot == null || slot.reason.isEmpty() ? Optional.empty() : Optional.of(slot.reason);
  }

  /**
   * The process is going away: readiness (server and every model) is false from now on, so that
   * traffic moves elsewhere. Requests are still served; nothing is unloaded.
   */
  public void stopServing() {
    stopping = true;
  }

  /** Whether {@link #stopServing()} was called. */
  public boolean stopping() {
    return stopping;
  }

  /** Unloads every model, waiting for in-flight requests. */
  @Override
  public void close() {
    close(Duration.ofDays(1));
  }

  /**
   * Unloads every model, waiting at most {@code wait} for in-flight and queued requests; what is
   * still running then is left to the process's exit.
   *
   * @return whether everything was unloaded in time
   */
  public boolean close(Duration wait) {
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (String name : List.copyOf(slots.keySet())) {
      all.add(unload(name));
    }
    try {
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).exceptionally(e -> null)
          .get(Math.max(0, wait.toMillis()), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      LOG.warn("event=models_not_drained wait_ms={}", wait.toMillis());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (ExecutionException e) {
      throw new IllegalStateException("unreachable: failures are mapped to null", e);
    } finally {
      loaderThread.shutdown();
    }
  }

  /** One model's state. Written by the loader thread only; read by anyone. */
  private static final class Slot {
    volatile NavigableMap<Long, ServedVersion> serving = Collections.emptyNavigableMap();
    volatile ModelState state = ModelState.UNAVAILABLE;
    volatile String reason = "";
    volatile boolean wanted;
    /** The version a request naming none gets, when it is not the newest (a sourced model with a candidate). */
    volatile Long defaultVersion;
    /** Counts loads and unloads, so that a late unload completion can tell whether one came since. */
    volatile long generation;
  }

  /** Versions retired together. */
  private record Retiring(java.util.Collection<ServedVersion> versions) {
    Retiring {
      versions = List.copyOf(versions);
    }

    CompletableFuture<Void> retireAll() {
      return CompletableFuture.allOf(versions.stream().map(ServedVersion::retire).toArray(CompletableFuture[]::new));
    }
  }
}
