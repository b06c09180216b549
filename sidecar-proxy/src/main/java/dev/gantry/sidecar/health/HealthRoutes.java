package dev.gantry.sidecar.health;

import dev.gantry.sidecar.runner.RunnerHealth;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

/**
 * Kubernetes probes: {@code /livez} is the sidecar process itself; {@code /readyz} is true only
 * while the runner is reachable and its models are READY.
 */
public final class HealthRoutes {
  private HealthRoutes() {}

  public static void mount(Router router, RunnerHealth health) {
    mount(router, health, () -> true);
  }

  /** @param warm whether the sidecar has warmed up ({@link Warmup}); {@code /readyz} waits for it too */
  public static void mount(Router router, RunnerHealth health, java.util.function.BooleanSupplier warm) {
    router.get("/livez").handler(rc -> rc.response().putHeader("content-type", "application/json")
        .end(new JsonObject().put("live", true).encode()));
    router.get("/readyz").handler(rc -> {
      boolean runnerReady = health.ready();
      boolean ready = runnerReady && warm.getAsBoolean();
      JsonObject body = new JsonObject().put("ready", ready);
      if (!ready) {
        body.put("reason", runnerReady ? "warming up: the sidecar sends itself requests until its throughput stops"
            + " rising (--warmup-ms)" : health.reason());
      }
      rc.response().setStatusCode(ready ? 200 : 503).putHeader("content-type", "application/json")
          .end(body.encode());
    });
  }
}
