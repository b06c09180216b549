package dev.gantry.sidecar.experiment;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.admin.AdminException;
import dev.gantry.sidecar.admin.AdminServer;
import dev.gantry.sidecar.cluster.StateKind;
import dev.gantry.sidecar.cluster.StateStore;
import dev.gantry.sidecar.routing.EndpointTable;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.List;
import java.util.function.Function;

/**
 * The experiments' HTTP routes: feedback on the data port (Gantry's {@code POST /v1/feedback} and Seldon's
 * {@code POST /api/v1.0/feedback}), results on the admin port ({@code GET /admin/v1/experiments/{name}/results}).
 */
public final class ExperimentRoutes {
  /** Largest feedback body taken. */
  static final int MAX_FEEDBACK_BYTES = 64 << 10;
  private final Vertx vertx;
  private final Feedback feedback;
  private final StateStore store;
  private final EndpointTable endpoints;
  private final CountsFlusher flusher;

  public ExperimentRoutes(Vertx vertx, Feedback feedback, StateStore store, EndpointTable endpoints,
      CountsFlusher flusher) {
    this.vertx = requireNonNull(vertx, "vertx");
    this.feedback = requireNonNull(feedback, "feedback");
    this.store = requireNonNull(store, "store");
    this.endpoints = requireNonNull(endpoints, "endpoints");
    this.flusher = requireNonNull(flusher, "flusher");
  }

  /** Gantry's and Seldon's feedback routes, on the data port. */
  public void mountFeedback(Router router) {
    router.post("/v1/feedback").handler(BodyHandler.create(false).setBodyLimit(MAX_FEEDBACK_BYTES))
        .handler(rc -> take(rc, ExperimentRoutes::gantryFeedback, e -> new JsonObject().put("error", e)));
    router.post("/api/v1.0/feedback").handler(BodyHandler.create(false).setBodyLimit(MAX_FEEDBACK_BYTES))
        .handler(rc -> take(rc, ExperimentRoutes::seldonFeedback, ExperimentRoutes::seldonStatus));
  }

  /** The results route, on the admin port (behind its token). */
  public void mountResults(Router router) {
    router.get("/admin/v1/experiments/:name/results").handler(rc -> AdminServer.answer(rc,
        vertx.executeBlocking(() -> results(rc.pathParam("name")), false)));
  }

  private JsonObject results(String name) {
    ExperimentRecord experiment = store.get(StateKind.EXPERIMENTS, name).map(ExperimentRecord::fromJson)
        .orElseThrow(() -> new AdminException(404, "no experiment named '" + name + "'"));
    var endpoint = endpoints.snapshot().endpoint(name).orElseThrow(() -> new AdminException(409, "experiment '"
        + name + "' names an endpoint that no longer exists; apply the endpoint or delete the experiment"));
    flusher.flush();
    String prefix = experiment.id() + "|";
    List<MemberCounts> counts = store.all(StateKind.EXPERIMENT_COUNTS).entrySet().stream()
        .filter(e -> e.getKey().startsWith(prefix)).map(e -> MemberCounts.fromJson(e.getValue())).toList();
    return Results.of(experiment, endpoint, counts);
  }

  /** A feedback request, read: the request id and the reward. */
  record Request(String requestId, double reward) {}

  private void take(RoutingContext rc, Function<JsonObject, Request> read, Function<String, JsonObject> shape) {
    Request request;
    try {
      if (rc.body() == null || rc.body().length() == 0) {
        throw new Feedback.Refused(400, "the body is empty; send a JSON object");
      }
      Object json = rc.body().buffer().toJsonValue();
      if (!(json instanceof JsonObject o)) {
        throw new Feedback.Refused(400, "the body must be a JSON object");
      }
      request = read.apply(o);
    } catch (DecodeException e) {
      answer(rc, 400, shape.apply("malformed JSON: " + e.getMessage().lines().findFirst().orElse("")));
      return;
    } catch (Feedback.Refused e) {
      answer(rc, e.status(), shape.apply(e.getMessage()));
      return;
    }
    feedback.reward(request.requestId(), request.reward()).onComplete(ar -> {
      if (ar.succeeded()) {
        answer(rc, 200, new JsonObject().put("request_id", request.requestId()).put("experiment",
            ar.result().endpoint()).put("variant", ar.result().variant()).put("reward", request.reward()));
      } else if (ar.cause() instanceof Feedback.Refused e) {
        answer(rc, e.status(), shape.apply(e.getMessage()));
      } else {
        answer(rc, 503, shape.apply("feedback could not be recorded: " + ar.cause().getMessage()));
      }
    });
  }

  /** {@code {"request_id": "…", "reward": 1.0}}. */
  static Request gantryFeedback(JsonObject o) {
    Object id = o.getValue("request_id");
    if (!(id instanceof String s) || s.isEmpty() || s.length() > 200) {
      throw new Feedback.Refused(400, "'request_id' must be the x-request-id of the answer (1-200 characters)");
    }
    return new Request(s, reward(o.getValue("reward")));
  }

  /**
   * Seldon's Feedback message: {@code {"request": {…}, "response": {"meta": {"puid": "…"}}, "reward": 1.0}}; the
   * request is found by the response's {@code meta.puid}, else the request's.
   */
  static Request seldonFeedback(JsonObject o) {
    String puid = puid(o.getValue("response"));
    if (puid == null) {
      puid = puid(o.getValue("request"));
    }
    if (puid == null) {
      throw new Feedback.Refused(400, "the feedback names no request: set response.meta.puid (or request.meta.puid)"
          + " to the puid of the answer");
    }
    return new Request(puid, reward(o.getValue("reward")));
  }

  private static String puid(Object message) {
    if (message instanceof JsonObject m && m.getValue("meta") instanceof JsonObject meta
        && meta.getValue("puid") instanceof String p && !p.isEmpty() && p.length() <= 200) {
      return p;
    }
    return null;
  }

  private static double reward(Object value) {
    if (!(value instanceof Number n) || !Double.isFinite(n.doubleValue())) {
      throw new Feedback.Refused(400, "'reward' must be a finite number, got " + (value == null ? "nothing" : value));
    }
    return n.doubleValue();
  }

  private static JsonObject seldonStatus(String message) {
    return new JsonObject().put("status", new JsonObject().put("code", 400).put("info", message)
        .put("reason", "BAD_FEEDBACK").put("status", "FAILURE"));
  }

  private static void answer(RoutingContext rc, int status, JsonObject body) {
    if (body.containsKey("status") && body.getValue("status") instanceof JsonObject s) {
      s.put("code", status);
    }
    rc.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.toBuffer());
  }
}
