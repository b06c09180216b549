package dev.gantry.sidecar.shadow;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.sidecar.adapter.json.JsonTensors;
import dev.gantry.sidecar.cluster.SpecTable;
import dev.gantry.sidecar.core.InferenceCall;
import dev.gantry.sidecar.path.CallTap;
import dev.gantry.sidecar.routing.EndpointTable;
import dev.gantry.sidecar.routing.RouteLayer;
import dev.gantry.sidecar.routing.Variant;
import dev.gantry.sidecar.runner.Upstreams;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Copies a share of an endpoint's calls to its shadow variant and compares the answers. A copy goes out only after
 * the primary was dispatched, with its own deadline and no link to the primary's caller; copies in flight per shadow
 * are bounded (beyond the bound they are dropped and counted); its answer, error and latency are only measured,
 * never passed on. The last disagreements of each shadow are kept for the admin API.
 */
public final class ShadowMirror implements CallTap {
  /** Values of one output kept per side of a disagreement. */
  static final int KEPT_VALUES = 64;

  private final SpecTable<ShadowSpec> shadows;
  private final EndpointTable endpoints;
  private final RouteLayer routes;
  private final ShadowMetrics metrics;
  private final dev.gantry.sidecar.experiment.ExperimentCounts agreement;
  private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
  private final Map<String, Deque<JsonObject>> disagreements = new ConcurrentHashMap<>();

  public ShadowMirror(SpecTable<ShadowSpec> shadows, EndpointTable endpoints, RouteLayer routes, ShadowMetrics metrics) {
    this(shadows, endpoints, routes, metrics, new dev.gantry.sidecar.experiment.ExperimentCounts());
  }

  /**
   * @param agreement where each comparison is also counted (under {@link #agreementId}, variant
   *     {@code agreement}: a success when the answers agree, an error when not), so that rollouts read the agreement
   *     of every sidecar's comparisons, merged
   */
  public ShadowMirror(SpecTable<ShadowSpec> shadows, EndpointTable endpoints, RouteLayer routes, ShadowMetrics metrics,
      dev.gantry.sidecar.experiment.ExperimentCounts agreement) {
    this.agreement = requireNonNull(agreement, "agreement");
    this.shadows = requireNonNull(shadows, "shadows");
    this.endpoints = requireNonNull(endpoints, "endpoints");
    this.routes = requireNonNull(routes, "routes");
    this.metrics = requireNonNull(metrics, "metrics");
  }

  @Override
  public void dispatched(InferenceCall call, Future<ModelInferResponse> primary, long dispatchedNanos) {
    ShadowSpec spec = shadows.snapshot().get(call.endpoint());
    if (spec == null || spec.variant().equals(call.variant())
        || ThreadLocalRandom.current().nextDouble(100) >= spec.percent()) {
      return;
    }
    Optional<Variant> variant = endpoints.snapshot().endpoint(call.endpoint()).flatMap(e -> e.variant(spec.variant()));
    if (variant.isEmpty()) {
      metrics.outcome(spec.name(), spec.variant(), ShadowMetrics.Outcome.NO_VARIANT);
      return;
    }
    AtomicInteger outstanding = inFlight.computeIfAbsent(spec.name(), k -> new AtomicInteger());
    if (outstanding.incrementAndGet() > spec.maxInFlightOrDefault()) {
      outstanding.decrementAndGet();
      metrics.outcome(spec.name(), spec.variant(), ShadowMetrics.Outcome.DROPPED);
      return;
    }
    Variant v = variant.get();
    Upstreams.Link link = routes.link(v.upstream());
    ModelInferRequest copy = call.request().toBuilder().setModelName(v.model()).setModelVersion(v.version().orElse(""))
        .build();
    long[] primaryDone = new long[1];
    Future<ModelInferResponse> answered = primary.andThen(ar -> primaryDone[0] = System.nanoTime());
    long sent = System.nanoTime();
    // no caller to go away: the copy ends at its answer or its own deadline (a shared never-completing future here
    // would collect a listener per copy and never let go of them)
    Future<ModelInferResponse> shadow = link.connection().infer(copy, TimeUnit.MILLISECONDS.toNanos(
        spec.timeoutMsOrDefault()), call.metadata(), null);
    long[] shadowDone = new long[1];
    Future.join(answered, shadow.andThen(ar -> shadowDone[0] = System.nanoTime())).onComplete(ar -> {
      outstanding.decrementAndGet();
      record(spec, call, v, answered, shadow, primaryDone[0] - dispatchedNanos, shadowDone[0] - sent);
    });
  }

  private void record(ShadowSpec spec, InferenceCall call, Variant shadowVariant, Future<ModelInferResponse> primary,
      Future<ModelInferResponse> shadow, long primaryNanos, long shadowNanos) {
    String endpoint = spec.name();
    String name = spec.variant();
    if (primary.failed() || shadow.failed()) {
      metrics.outcome(endpoint, name, primary.failed() && shadow.failed() ? ShadowMetrics.Outcome.BOTH_ERROR
          : primary.failed() ? ShadowMetrics.Outcome.PRIMARY_ERROR : ShadowMetrics.Outcome.SHADOW_ERROR);
      return;
    }
    Comparison c;
    try {
      c = Comparison.of(primary.result(), shadow.result());
    } catch (RuntimeException e) {
      c = new Comparison(false, false, Double.NaN, Double.NaN);
    }
    metrics.latencyDelta(endpoint, name, shadowNanos - primaryNanos);
    if (!c.comparable()) {
      metrics.outcome(endpoint, name, ShadowMetrics.Outcome.INCOMPARABLE);
      return;
    }
    metrics.outcome(endpoint, name, ShadowMetrics.Outcome.COMPARED);
    metrics.compared(endpoint, name, c);
    dev.gantry.sidecar.experiment.ExperimentCounts.Counter agreed = agreement.of(agreementId(endpoint, name),
        "agreement");
    if (c.agree()) {
      agreed.succeeded(0);
    } else {
      agreed.failed();
    }
    if (!c.agree() && spec.keepDisagreementsOrDefault() > 0) {
      Deque<JsonObject> kept = disagreements.computeIfAbsent(endpoint, k -> new ArrayDeque<>());
      JsonObject entry = new JsonObject().put("request_id", call.requestId()).put("at", Instant.now().toString())
          .put("max_abs_difference", c.maxAbsDifference())
          .put("primary", side(call.variant(), primary.result()))
          .put("shadow", side(shadowVariant.name(), shadow.result()));
      synchronized (kept) {
        kept.addFirst(entry);
        while (kept.size() > spec.keepDisagreementsOrDefault()) {
          kept.removeLast();
        }
      }
    }
  }

  private static JsonObject side(String variant, ModelInferResponse r) {
    JsonArray outputs = new JsonArray();
    for (int i = 0; i < r.getOutputsCount(); i++) {
      List<Object> values = JsonTensors.values(r, i);
      outputs.add(new JsonObject().put("name", r.getOutputs(i).getName())
          .put("shape", new JsonArray(r.getOutputs(i).getShapeList()))
          .put("data", new JsonArray(values.subList(0, Math.min(KEPT_VALUES, values.size())))));
    }
    return new JsonObject().put("variant", variant).put("model", r.getModelName()).put("version", r.getModelVersion())
        .put("outputs", outputs);
  }

  /** Where the agreement of an endpoint's shadow of a variant is counted. */
  public static String agreementId(String endpoint, String variant) {
    return "shadow:" + endpoint + ":" + variant;
  }

  /** The last disagreements of an endpoint's shadow, newest first (this sidecar's). */
  public List<JsonObject> disagreements(String endpoint) {
    Deque<JsonObject> kept = disagreements.get(endpoint);
    if (kept == null) {
      return List.of();
    }
    synchronized (kept) {
      return List.copyOf(kept);
    }
  }

  /** Copies of an endpoint outstanding now. */
  public int inFlight(String endpoint) {
    AtomicInteger n = inFlight.get(endpoint);
    return n == null ? 0 : n.get();
  }
}
