package dev.gantry.sidecar.runner;

import static java.util.Objects.requireNonNull;

import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the runner is reachable and ready, from a periodic ServerReady probe and from what
 * requests see. A request that finds the runner unreachable, or a runner that answers "not ready",
 * drops readiness at once; a probe that merely gets no answer in time counts only when it happens
 * {@value #FAILURE_THRESHOLD} times in a row, so that one slow answer under load does not take the
 * pod out of service. The next successful probe restores readiness.
 */
public final class RunnerHealth {
  private static final Logger LOG = LoggerFactory.getLogger(RunnerHealth.class);
  static final int FAILURE_THRESHOLD = 3;

  private final Vertx vertx;
  private final RunnerConnection runner;
  private final ModelCatalog catalog;
  private final long intervalMs;
  private volatile boolean ready;
  private volatile String reason = "not probed yet";
  private volatile java.util.Set<String> models = java.util.Set.of();
  private long timer = -1;
  private int failedProbes;

  public RunnerHealth(Vertx vertx, RunnerConnection runner, ModelCatalog catalog, long intervalMs) {
    this.vertx = requireNonNull(vertx, "vertx");
    this.runner = requireNonNull(runner, "runner");
    this.catalog = requireNonNull(catalog, "catalog");
    this.intervalMs = intervalMs;
  }

  public void start() {
    probe();
    timer = vertx.setPeriodic(intervalMs, id -> probe());
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  /** Probes now; readiness follows the answer. */
  public void probe() {
    runner.serverReady(Math.max(500, intervalMs)).onComplete(ar -> {
      if (ar.succeeded()) {
        failedProbes = 0;
        if (ar.result()) {
          set(true, "");
          runner.readyModels().onSuccess(names -> models = names);
        } else {
          set(false, "model-runner at " + runner.address() + " is up but its models are not all READY");
        }
      } else if (isUnreachable(ar.cause()) || ++failedProbes >= FAILURE_THRESHOLD) {
        set(false, ar.cause().getMessage());
      }
    });
  }

  private static boolean isUnreachable(Throwable t) {
    return t instanceof dev.gantry.sidecar.core.SidecarException e
        && e.kind() == dev.gantry.sidecar.core.ErrorKind.UNAVAILABLE && e.getMessage().contains("unreachable")
        && !e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("timeout");
  }

  /** A request found the runner unreachable. */
  public void unreachable(String why) {
    set(false, why);
  }

  private void set(boolean nowReady, String why) {
    boolean was = ready;
    ready = nowReady;
    reason = why;
    if (was != nowReady) {
      catalog.clear();
      if (nowReady) {
        LOG.info("event=runner_ready runner={}", runner.address());
      } else {
        LOG.warn("event=runner_not_ready runner={} reason=\"{}\"", runner.address(), why);
      }
    }
  }

  public boolean ready() {
    return ready;
  }

  /** Models the runner served at the last probe. */
  public java.util.Set<String> models() {
    return models;
  }

  /** Why the runner is not ready ("" when it is). */
  public String reason() {
    return reason;
  }
}
