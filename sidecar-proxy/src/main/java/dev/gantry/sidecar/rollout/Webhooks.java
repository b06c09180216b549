package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls a rollout's webhooks with Flagger's meanings: {@code confirm-rollout} and {@code confirm-promotion} gate
 * (anything but a 2xx holds), {@code pre-rollout} must pass before traffic moves, a 2xx from {@code rollback} aborts,
 * and {@code event} is told every state change. Each call is a JSON POST with a timeout, retried on failure.
 */
public final class Webhooks {
  private static final Logger LOG = LoggerFactory.getLogger(Webhooks.class);
  private final Vertx vertx;
  private final WebClient client;

  public Webhooks(Vertx vertx, WebClient client) {
    this.vertx = requireNonNull(vertx, "vertx");
    this.client = requireNonNull(client, "client");
  }

  /** What a hook answered: whether it said yes (a 2xx), and in words. */
  public record Answer(RolloutSpec.WebhookSpec hook, boolean yes, String detail) {}

  /** The payload every hook gets. */
  public static JsonObject payload(RolloutSpec spec, RolloutState state, String hookType, Optional<String> message) {
    JsonObject p = new JsonObject().put("name", spec.name()).put("endpoint", spec.endpoint())
        .put("stable", spec.stable()).put("canary", spec.canary()).put("type", hookType)
        .put("phase", state.phase().name()).put("step", state.step()).put("canary_weight", state.canaryWeight());
    message.ifPresent(m -> p.put("message", m));
    return p;
  }

  /** Calls every hook of a type in turn; the answers, in order (empty when there are none). */
  public Future<List<Answer>> callAll(RolloutSpec spec, String type, JsonObject payload) {
    List<RolloutSpec.WebhookSpec> hooks = spec.webhooks().stream().filter(h -> h.type().equals(type)).toList();
    Future<List<Answer>> chain = Future.succeededFuture(new ArrayList<>());
    for (RolloutSpec.WebhookSpec h : hooks) {
      chain = chain.compose(answers -> call(h, payload).map(a -> {
        answers.add(a);
        return answers;
      }));
    }
    return chain;
  }

  /** One hook, tried 1 + retries times; never fails (a failure is a "no"). */
  public Future<Answer> call(RolloutSpec.WebhookSpec hook, JsonObject payload) {
    JsonObject body = payload.copy();
    if (hook.metadata() != null) {
      body.put("metadata", new JsonObject(new java.util.HashMap<>(hook.metadata())));
    }
    Duration timeout = Durations.parse(hook.timeout() == null ? "10s" : hook.timeout());
    int tries = 1 + (hook.retries() == null ? 2 : hook.retries());
    Promise<Answer> done = Promise.promise();
    attempt(hook, body, timeout, tries, 1, done);
    return done.future();
  }

  private void attempt(RolloutSpec.WebhookSpec hook, JsonObject body, Duration timeout, int tries, int n,
      Promise<Answer> done) {
    client.postAbs(hook.url()).timeout(timeout.toMillis()).sendJsonObject(body).onComplete(ar -> {
      boolean yes = ar.succeeded() && ar.result().statusCode() / 100 == 2;
      String detail = ar.succeeded() ? "answered " + ar.result().statusCode() : "failed: " + ar.cause().getMessage();
      // a clear "no" (a 4xx) is final; no answer, or a 5xx, is tried again
      if (yes || (ar.succeeded() && ar.result().statusCode() < 500) || n >= tries) {
        if (!yes) {
          LOG.info("event=rollout_webhook_no hook={} type={} url={} tries={} detail=\"{}\"", hook.name(), hook.type(),
              hook.url(), n, detail);
        }
        done.complete(new Answer(hook, yes, hook.type() + " hook '" + hook.name() + "' " + detail));
        return;
      }
      vertx.setTimer(Math.min(200L * n, 2000L), t -> attempt(hook, body, timeout, tries, n + 1, done));
    });
  }
}
