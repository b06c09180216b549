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
    router.get("/livez").handler(rc -> rc.response().putHeader("content-type", "application/json")
        .end(new JsonObject().put("live", true).encode()));
    router.get("/readyz").handler(rc -> {
      boolean ready = health.ready();
      JsonObject body = new JsonObject().put("ready", ready);
      if (!ready) {
        body.put("reason", health.reason());
      }
      rc.response().setStatusCode(ready ? 200 : 503).putHeader("content-type", "application/json")
          .end(body.encode());
    });
  }
}
