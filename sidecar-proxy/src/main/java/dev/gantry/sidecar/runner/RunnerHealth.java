package dev.gantry.sidecar.runner;

import static java.util.Objects.requireNonNull;

import io.vertx.core.Vertx;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the runner is reachable and ready, from a periodic ServerReady probe and from what
 * requests and keep-alive PINGs see.
 *
 * <ul>
 *   <li>A runner that cannot be connected to, a connection that stops answering PINGs, or a
 *       runner that answers "not ready" drops readiness at once.
 *   <li>A probe that merely gets no answer within its deadline counts only when it happens
 *       {@value #FAILURE_THRESHOLD} times in a row, so that one slow answer under load does not
 *       take the pod out of service; a runner that stops answering altogether is therefore not
 *       ready within {@value #FAILURE_THRESHOLD} probe periods.
 *   <li>The next successful probe restores readiness, unless the sidecar is draining.
 *   <li>Each good probe also reads which versions the runner serves: the set that bounds metric
 *       labels, and whose changes (a reload, an unload) invalidate the metadata catalog at once.
 * </ul>
 */
public final class RunnerHealth {
  private static final Logger LOG = LoggerFactory.getLogger(RunnerHealth.class);
  static final int FAILURE_THRESHOLD = 3;

  private final Vertx vertx;
  private final RunnerConnection runner;
  private final ModelCatalog catalog;
  private final long intervalMs;
  private volatile boolean ready;
  private volatile boolean draining;
  private volatile String reason = "not probed yet";
  private volatile Map<String, Set<String>> served = Map.of();
  private long timer = -1;
  private int failedProbes;

  public RunnerHealth(Vertx vertx, RunnerConnection runner, ModelCatalog catalog, long intervalMs) {
    this.vertx = requireNonNull(vertx, "vertx");
    this.runner = requireNonNull(runner, "runner");
    this.catalog = requireNonNull(catalog, "catalog");
    this.intervalMs = intervalMs;
    runner.onDeadPeer(this::unreachable);
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
          // what it serves is known before it counts as ready (the warm-up reads it as readiness turns)
          runner.servedVersions().onComplete(served -> {
            if (served.succeeded()) {
              servedNow(served.result());
            }
            set(true, "");
          });
        } else {
          set(false, "model-runner at " + runner.address() + " is up but its models are not all READY");
        }
      } else if (RunnerConnection.isUnreachable(ar.cause()) || ++failedProbes >= FAILURE_THRESHOLD) {
        set(false, ar.cause().getMessage());
      }
    });
  }

  private void servedNow(Map<String, Set<String>> now) {
    Map<String, Set<String>> before = served;
    served = now;
    if (!before.equals(now)) {
      for (String model : before.keySet()) {
        if (!now.getOrDefault(model, Set.of()).equals(before.get(model))) {
          catalog.invalidate(model);
        }
      }
      for (String model : now.keySet()) {
        if (!before.containsKey(model)) {
          catalog.invalidate(model);
        }
      }
    }
  }

  /** A request or a keep-alive PING found the runner unreachable. */
  public void unreachable(String why) {
    set(false, why);
  }

  /** The sidecar is shutting down: not ready from now on, whatever the runner says. */
  public void drain() {
    draining = true;
    set(false, "the sidecar is shutting down");
  }

  /** Whether the sidecar is shutting down ({@link #drain}). */
  public boolean draining() {
    return draining;
  }

  private synchronized void set(boolean nowReady, String why) {
    if (draining && nowReady) {
      return;
    }
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

  /** The versions of each model the runner served at the last good probe. */
  public Map<String, Set<String>> served() {
    return served;
  }

  /** Models the runner served at the last good probe. */
  public Set<String> models() {
    return served.keySet();
  }

  /** Whether the runner served this version of this model at the last good probe. */
  public boolean serves(String model, String version) {
    Set<String> versions = served.get(model);
    return versions != null && versions.contains(version);
  }

  /** Why the runner is not ready ("" when it is). */
  public String reason() {
    return reason;
  }
}
