package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.experiment.VariantTally;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Judges one analysis interval of a rollout: the built-in checks on the merged counts, the canary's shadow agreement,
 * and the PromQL checks, into one {@link Analysis}.
 */
public final class Analyst {
  private final PrometheusSource prometheus;

  public Analyst(PrometheusSource prometheus) {
    this.prometheus = requireNonNull(prometheus, "prometheus");
  }

  /**
   * @param now the merged cumulative counts now
   * @param intervalStart the counts when the interval began
   * @param stepStart the counts when the step began
   */
  public Future<Analysis> analyse(RolloutSpec spec, Map<String, VariantTally> now,
      Map<String, VariantTally> intervalStart, Map<String, VariantTally> stepStart) {
    VariantTally canary = delta(now, intervalStart, spec.canary());
    // stable is the reference of the relative checks; when it had too little traffic to be one (a step at 100 %, or
    // a large canary weight at low traffic), its counts since the rollout was made stand in
    VariantTally all = now.getOrDefault(spec.stable(), VariantTally.EMPTY);
    VariantTally stable = reference(delta(now, intervalStart, spec.stable()), all, spec.minRequests());
    VariantTally stableStep = reference(delta(now, stepStart, spec.stable()), all, spec.minRequests());
    Analysis builtIn = BuiltInChecks.analyse(spec.thresholds(), stable, canary, stableStep,
        delta(now, stepStart, spec.canary()));
    List<Analysis.Check> checks = new ArrayList<>(builtIn.checks().stream()
        .filter(c -> spec.sequentialTest() || !c.name().equals("error_rate_sequential")).toList());
    spec.minShadowAgreement().ifPresent(min -> checks.add(shadow(spec, min, now.getOrDefault(RolloutCounts.SHADOW,
        VariantTally.EMPTY))));
    List<Future<Analysis.Check>> queries = spec.queries().stream().map(q -> query(spec, q)).toList();
    return Future.all(queries).map(done -> {
      queries.forEach(f -> checks.add(f.result()));
      return Analysis.of(checks);
    });
  }

  private static VariantTally reference(VariantTally recent, VariantTally all, long minRequests) {
    return recent.successes() + recent.errors() >= minRequests ? recent : all;
  }

  private static VariantTally delta(Map<String, VariantTally> now, Map<String, VariantTally> then, String variant) {
    return now.getOrDefault(variant, VariantTally.EMPTY).minus(then.getOrDefault(variant, VariantTally.EMPTY));
  }

  /** The share of the shadow's comparisons (every sidecar's, since the shadow began) in which the canary agreed. */
  private static Analysis.Check shadow(RolloutSpec spec, double min, VariantTally agreement) {
    long compared = agreement.successes() + agreement.errors();
    String threshold = ">= " + String.format(Locale.ROOT, "%g", min);
    if (compared < spec.minRequests()) {
      return new Analysis.Check("shadow_agreement", OptionalDouble.empty(), threshold + " (" + compared
          + " comparisons; " + spec.minRequests() + " needed)", Analysis.Verdict.INCONCLUSIVE, OptionalDouble.empty());
    }
    double value = (double) agreement.successes() / compared;
    return new Analysis.Check("shadow_agreement", OptionalDouble.of(value), threshold,
        value >= min ? Analysis.Verdict.PASS : Analysis.Verdict.FAIL, OptionalDouble.empty());
  }

  private Future<Analysis.Check> query(RolloutSpec spec, RolloutSpec.CheckSpec q) {
    RolloutSpec.PrometheusSpec p = spec.analysisOrDefault().prometheus();
    Duration timeout = Durations.parse(p.timeout() == null ? "5s" : p.timeout());
    String threshold = "[" + (q.min() == null ? "-inf" : fmt(q.min())) + ", " + (q.max() == null ? "+inf"
        : fmt(q.max())) + "]";
    return prometheus.query(p.url(), PrometheusSource.template(q.query(), spec), timeout).map(r -> {
      if (r.value().isEmpty()) {
        return new Analysis.Check(q.name(), OptionalDouble.empty(), threshold + " (no value: " + r.problem() + ")",
            Analysis.Verdict.INCONCLUSIVE, OptionalDouble.empty());
      }
      double v = r.value().getAsDouble();
      boolean in = (q.min() == null || v >= q.min()) && (q.max() == null || v <= q.max());
      return new Analysis.Check(q.name(), r.value(), threshold, in ? Analysis.Verdict.PASS : Analysis.Verdict.FAIL,
          OptionalDouble.empty());
    });
  }

  private static String fmt(double d) {
    return String.format(Locale.ROOT, "%g", d);
  }
}
