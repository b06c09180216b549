package dev.gantry.runner.source;

import static java.util.Objects.requireNonNull;

import dev.gantry.runner.inference.InferenceException;
import dev.gantry.runner.repository.SourcedModels.Sourced;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows a stage, an alias or {@code latest} as it moves: every {@code watch} period it asks the registry again
 * what the URI names. A new version is downloaded into the cache, then the model is reloaded, which brings the new
 * version up and warms it before it takes the traffic and the old one drains. A version that fails to download or
 * to load leaves the old one serving; the failure is logged, counted in
 * {@code gantry_runner_model_source_updates_total{result}} and kept as the model's load failure (shown in its
 * metadata), and that version is not tried again until the URI names another.
 *
 * <p>Checks run on one thread of their own, one model at a time; a reload is awaited before the next check.
 */
public final class AliasWatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AliasWatcher.class);

  private final ModelSources sources;
  private final Function<String, CompletableFuture<?>> reload;
  private final MeterRegistry meters;
  private final ScheduledExecutorService thread;
  private final Map<String, Long> refused = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> servedVersion = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> candidateVersion = new ConcurrentHashMap<>();
  /** The version a move was last logged for while a candidate waited, so that it is logged once. */
  private final Map<String, Long> heldBack = new ConcurrentHashMap<>();

  /**
   * @param sources the models and their current versions
   * @param reload loads a model again from its current source (the model manager's reload), completing when the
   *     new version serves or failing when it cannot
   * @param meters where the update counters and the served-version gauge go
   */
  public AliasWatcher(ModelSources sources, Function<String, CompletableFuture<?>> reload, MeterRegistry meters) {
    this.sources = requireNonNull(sources, "sources");
    this.reload = requireNonNull(reload, "reload");
    this.meters = requireNonNull(meters, "meters");
    this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "gantry-model-watch");
      t.setDaemon(true);
      return t;
    });
    for (String name : sources.names()) {
      AtomicLong v = new AtomicLong(-1);
      servedVersion.put(name, v);
      Gauge.builder("gantry.runner.model.source.version", v, AtomicLong::get)
          .description("Registry version a model URI serves now (-1: none)")
          .tags("model", name, "uri", sources.spec(name).uri().text())
          .strongReference(true)
          .register(meters);
      AtomicLong c = new AtomicLong(-1);
      candidateVersion.put(name, c);
      Gauge.builder("gantry.runner.model.source.candidate", c, AtomicLong::get)
          .description("Registry version loaded beside the served one while a rollout decides about it (-1: none)")
          .tags("model", name, "uri", sources.spec(name).uri().text())
          .strongReference(true)
          .register(meters);
    }
  }

  /** Whether the model is named by a URI this watcher knows. */
  public boolean follows(String name) {
    return sources.names().contains(name);
  }

  /** {@code swap} or {@code rollout}: what a new version of the model does. */
  public String onNewVersion(String name) {
    return sources.spec(name).onNewVersion().name().toLowerCase(java.util.Locale.ROOT);
  }

  /** Starts the periodic checks of every watched model. */
  public void start() {
    for (String name : sources.names()) {
      recordServed(name);
      sources.spec(name).watch().ifPresent(period -> thread.scheduleWithFixedDelay(() -> checkQuietly(name),
          period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS));
    }
  }

  private void recordServed(String name) {
    try {
      servedVersion.get(name).set(sources.current(name).version());
    } catch (RuntimeException e) {
      servedVersion.get(name).set(-1);
    }
    candidateVersion.get(name).set(sources.candidate(name).map(Sourced::version).orElse(-1L));
  }

  private void checkQuietly(String name) {
    try {
      check(name);
    } catch (RuntimeException | Error e) {
      // a scheduled task that throws is never run again
      LOG.error("event=model_watch_failed model={} reason=\"{}\"", name, ModelSources.message(e), e);
    }
  }

  /** One check of one model (public for tests: the same as a tick of its period). */
  public void check(String name) {
    SourceSpec spec = sources.spec(name);
    ModelUri.Registered uri = (ModelUri.Registered) spec.uri();
    MlflowRegistry.ModelVersion mv;
    try {
      mv = sources.resolve(uri);
    } catch (MlflowRegistry.RegistryException e) {
      count(name, "registry_error");
      LOG.warn("event=model_watch_registry_error model={} uri={} reason=\"{}\"", name, uri.text(), e.getMessage());
      return;
    }
    Sourced old;
    try {
      old = sources.current(name);
    } catch (RuntimeException e) {
      old = null;
    }
    if (old != null && old.version() == mv.version() || Long.valueOf(mv.version()).equals(refused.get(name))) {
      return;
    }
    boolean rollout = spec.onNewVersion() == SourceSpec.OnNewVersion.ROLLOUT && old != null;
    Optional<Sourced> pending = sources.candidate(name);
    if (pending.isPresent()) {
      // one rollout at a time: a move while a candidate is decided about waits for the decision
      if (pending.get().version() != mv.version() && !Long.valueOf(mv.version()).equals(heldBack.put(name,
          mv.version()))) {
        LOG.info("event=model_version_moved_during_rollout model={} uri={} candidate={} now={} action=wait",
            name, uri.text(), pending.get().version(), mv.version());
      }
      return;
    }
    LOG.info("event=model_version_moved model={} uri={} from={} to={}", name, uri.text(),
        old == null ? "none" : old.version(), mv.version());
    Sourced next;
    try {
      next = sources.fetch(spec, mv);
    } catch (Exception e) {
      refuse(name, mv.version(), "download_failed", "version " + mv.version() + " of " + uri.text()
          + " could not be downloaded: " + ModelSources.message(e));
      return;
    }
    if (rollout) {
      sources.offer(name, next);
    } else {
      sources.use(name, next);
    }
    try {
      reload.apply(name).join();
    } catch (RuntimeException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (rollout) {
        sources.offer(name, null);
      } else if (old != null) {
        sources.use(name, old);
      }
      refuse(name, mv.version(), "load_failed", "version " + mv.version() + " of " + uri.text()
          + " failed to load; " + (old == null ? "nothing serves" : "version " + old.version() + " keeps serving")
          + ": " + ModelSources.message(cause));
      return;
    }
    refused.remove(name);
    heldBack.remove(name);
    sources.updateFailed(name, null);
    recordServed(name);
    if (rollout) {
      count(name, "candidate");
      LOG.info("event=model_version_candidate model={} uri={} version={} serving={} waiting_for=rollout", name,
          uri.text(), mv.version(), old.version());
    } else {
      count(name, "loaded");
      LOG.info("event=model_version_swapped model={} uri={} version={}", name, uri.text(), mv.version());
    }
  }

  /**
   * Makes a model's candidate its current version: requests naming no version get it from now on, and the old
   * version drains. Promoting the version that already serves does nothing.
   *
   * @return what was done; fails with an {@link InferenceException} NOT_FOUND when {@code version} is not the
   *     candidate
   */
  public CompletableFuture<String> promote(String name, long version) {
    return CompletableFuture.supplyAsync(() -> {
      Sourced candidate = decided(name, version);
      if (candidate == null) {
        return "version " + version + " of model '" + name + "' serves already";
      }
      Sourced old = sources.current(name);
      sources.use(name, candidate);
      sources.offer(name, null);
      try {
        reload.apply(name).join();
      } catch (RuntimeException e) {
        sources.use(name, old);
        sources.offer(name, candidate);
        throw e;
      }
      recordServed(name);
      count(name, "promoted");
      LOG.info("event=model_version_promoted model={} version={} replaced={}", name, version, old.version());
      return "version " + version + " of model '" + name + "' serves; version " + old.version() + " drains";
    }, thread);
  }

  /**
   * Unloads a model's candidate: its current version keeps serving, and the candidate is not loaded again while
   * the URI names it. Rejecting a version that is no candidate (any more) does nothing.
   *
   * @param why what decided it, kept as the model's update failure (shown in its metadata)
   * @return what was done
   */
  public CompletableFuture<String> reject(String name, long version, String why) {
    return CompletableFuture.supplyAsync(() -> {
      Optional<Sourced> candidate = sources.candidate(name);
      if (candidate.isEmpty() || candidate.get().version() != version) {
        refused.put(name, version);
        return "version " + version + " of model '" + name + "' is not its candidate; nothing to unload";
      }
      sources.offer(name, null);
      reload.apply(name).join();
      Sourced current = sources.current(name);
      refuse(name, version, "rejected", "version " + version + " of " + sources.spec(name).uri().text()
          + " was rejected (" + why + "); version " + current.version() + " keeps serving");
      return "version " + version + " of model '" + name + "' is unloaded; version " + current.version()
          + " keeps serving";
    }, thread);
  }

  /**
   * Serves a given registry version of the model instead of the one it serves (what the cluster accepted, for a
   * runner that started while its alias named another), dropping any candidate. The version served before is
   * refused from then on when {@code refuseCurrent} (a rollout rejected it); otherwise the next check offers it again.
   *
   * @return what was done
   */
  public CompletableFuture<String> pin(String name, long version, boolean refuseCurrent, String why) {
    return CompletableFuture.supplyAsync(() -> {
      Sourced current = sources.current(name);
      if (current.version() == version && sources.candidate(name).isEmpty()) {
        return "version " + version + " of model '" + name + "' serves already";
      }
      SourceSpec spec = sources.spec(name);
      ModelUri.Registered uri = (ModelUri.Registered) spec.uri();
      Sourced next;
      try {
        next = sources.fetch(spec, sources.resolve((ModelUri.Registered) ModelUri.parse("models:/" + uri.name() + "/"
            + version)));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("version " + version + " of " + uri.name() + " could not be"
            + " downloaded: " + ModelSources.message(e), e);
      }
      Optional<Sourced> candidate = sources.candidate(name);
      sources.offer(name, null);
      sources.use(name, next);
      try {
        reload.apply(name).join();
      } catch (RuntimeException e) {
        sources.use(name, current);
        candidate.ifPresent(c -> sources.offer(name, c));
        throw e;
      }
      if (refuseCurrent && current.version() != version) {
        refused.put(name, current.version());
        sources.updateFailed(name, "version " + current.version() + " of " + uri.text() + " was rejected (" + why
            + "); version " + version + " serves");
      }
      recordServed(name);
      count(name, "pinned");
      LOG.info("event=model_version_pinned model={} version={} replaced={} refused={} reason=\"{}\"", name, version,
          current.version(), refuseCurrent, why);
      return "version " + version + " of model '" + name + "' serves; version " + current.version() + " drains";
    }, thread);
  }

  /** The candidate to promote; null when {@code version} serves already. */
  private Sourced decided(String name, long version) {
    Optional<Sourced> candidate = sources.candidate(name);
    if (candidate.isPresent() && candidate.get().version() == version) {
      return candidate.get();
    }
    Sourced current = sources.current(name);
    if (current.version() == version) {
      return null;
    }
    throw InferenceException.notFound("model '" + name + "' has no candidate version " + version + "; it serves"
        + " version " + current.version() + (candidate.map(c -> " and its candidate is version " + c.version())
        .orElse(" and has no candidate")));
  }

  private void refuse(String name, long version, String result, String why) {
    refused.put(name, version);
    sources.updateFailed(name, why);
    count(name, result);
    recordServed(name);
    LOG.error("event=model_update_failed model={} result={} reason=\"{}\"", name, result, why);
  }

  private void count(String name, String result) {
    Counter.builder("gantry.runner.model.source.updates")
        .description("Checks of a watched model URI that found a new version, by outcome; registry_error: the"
            + " registry could not be asked")
        .tags("model", name, "result", result)
        .register(meters).increment();
  }

  /** Stops the checks; one under way finishes. */
  @Override
  public void close() {
    thread.shutdown();
    try {
      thread.awaitTermination(Duration.ofSeconds(10).toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
