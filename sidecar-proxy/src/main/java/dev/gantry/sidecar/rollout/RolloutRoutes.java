package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.admin.AdminException;
import dev.gantry.sidecar.admin.AdminServer;
import dev.gantry.sidecar.cluster.StateKind;
import dev.gantry.sidecar.cluster.StateStore;
import dev.gantry.sidecar.core.Documents;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The rollout routes of the admin API, besides the spec's own ({@code /admin/v1/rollouts/{name}}):
 * <ul>
 *   <li>{@code GET /admin/v1/rollouts/{name}/status}: phase, step, weight, leader, waiting, last checks and the
 *       decision log;
 *   <li>{@code POST /admin/v1/rollouts/{name}/{pause|resume|promote|abort|retry}} ({@code promote?full=true} goes
 *       straight to 100 %).
 * </ul>
 */
public final class RolloutRoutes {
  private final Vertx vertx;
  private final StateStore store;
  private final RolloutCommands commands;

  public RolloutRoutes(Vertx vertx, StateStore store, RolloutCommands commands) {
    this.vertx = requireNonNull(vertx, "vertx");
    this.store = requireNonNull(store, "store");
    this.commands = requireNonNull(commands, "commands");
  }

  public void mount(Router router) {
    router.get("/admin/v1/rollouts/:name/status").handler(rc -> AdminServer.answer(rc, status(rc.pathParam("name"))));
    router.post("/admin/v1/rollouts/:name/:command").handler(rc -> {
      String name = rc.pathParam("name");
      String word = rc.pathParam("command").toLowerCase(Locale.ROOT);
      boolean full = "true".equals(rc.queryParams().get("full"));
      RolloutMachine.Command command = switch (word) {
        case "pause" -> RolloutMachine.Command.PAUSE;
        case "resume" -> RolloutMachine.Command.RESUME;
        case "promote" -> full ? RolloutMachine.Command.PROMOTE_FULL : RolloutMachine.Command.PROMOTE;
        case "abort" -> RolloutMachine.Command.ABORT;
        case "retry" -> RolloutMachine.Command.RETRY;
        default -> null;
      };
      if (command == null) {
        AdminServer.error(rc, new AdminException(404, "no rollout command '" + word + "': the commands are pause,"
            + " resume, promote (?full=true), abort and retry"));
        return;
      }
      AdminServer.answer(rc, commands.run(name, command).compose(s -> status(name)));
    });
  }

  /** The status as the admin API and {@code gantry rollout status} show it. */
  public Future<JsonObject> status(String name) {
    return vertx.executeBlocking(() -> {
      // read from cluster state, not this member's snapshot, so that a rollout just applied is found at once
      RolloutRecord record = store.get(StateKind.ROLLOUTS, name).map(RolloutRecord::fromJson)
          .orElseThrow(() -> new AdminException(404, "no rollout named '" + name + "'"));
      Optional<RolloutStatus> s = store.get(StateKind.ROLLOUT_STATUS, name).map(RolloutStatus::fromJson)
          .filter(x -> x.rolloutId().equals(record.id()));
      Optional<RolloutLease> lease = store.get(StateKind.ROLLOUT_LEASES, name).map(RolloutLease::fromJson);
      JsonObject out = new JsonObject().put("name", name).put("id", record.id()).put("endpoint",
          record.spec().endpoint()).put("stable", record.spec().stable()).put("canary", record.spec().canary())
          .put("steps", record.spec().steps().size());
      lease.ifPresent(l -> out.put("leader", l.leader()).put("epoch", l.epoch()));
      if (s.isEmpty()) {
        return out.put("phase", "PENDING").put("waiting", "no sidecar has picked it up yet").put("decisions",
            new JsonArray());
      }
      RolloutStatus st = s.get();
      out.put("phase", st.state().phase().name()).put("step", st.state().step())
          .put("canary_weight", st.state().canaryWeight()).put("failed_intervals", st.state().failedIntervals())
          .put("inconclusive_intervals", st.state().inconclusiveIntervals())
          .put("rolled_back", st.state().rolledBack()).put("waiting", st.waiting())
          .put("step_started_at", st.state().stepStartedAt().toString())
          .put("decision_counts", new JsonObject(Map.copyOf(st.decisionCounts())));
      JsonArray checks = new JsonArray();
      st.lastChecks().forEach(c -> checks.add(check(c)));
      out.put("last_checks", checks);
      JsonArray log = new JsonArray();
      for (RolloutStatus.Entry e : st.decisions()) {
        JsonArray cs = new JsonArray();
        e.decision().checks().forEach(c -> cs.add(check(c)));
        log.add(new JsonObject().put("at", e.decision().at().toString()).put("result", e.result())
            .put("from", e.decision().from().name()).put("to", e.decision().to().name())
            .put("step", e.decision().step())
            .put("canary_weight", e.decision().weight()).put("reason", e.decision().reason()).put("by", e.by())
            .put("epoch", e.epoch()).put("checks", cs));
      }
      return out.put("decisions", log);
    }, false);
  }

  private static JsonObject check(Analysis.Check c) {
    JsonObject o = new JsonObject().put("name", c.name()).put("verdict", c.verdict().name())
        .put("threshold", c.threshold());
    o.put("value", c.value().isPresent() ? c.value().getAsDouble() : null);
    if (c.pValue().isPresent()) {
      o.put("p_value", c.pValue().getAsDouble());
    }
    return o;
  }

  static Map<String, Object> asMap(Object o) {
    return Documents.asMap(o);
  }
}
