package dev.gantry.sidecar.experiment;

import dev.gantry.sidecar.routing.Endpoint;
import dev.gantry.sidecar.routing.Variant;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;

/**
 * An experiment's results from every member's counts: per variant its exposures, successes and errors, latency and
 * mean reward; against the control, the difference in the goal metric with its always-valid interval and p-value
 * ({@link ConfidenceSequence}), guarded by a minimum sample per arm; and the sample-ratio check of the exposures
 * against the weights ({@link SampleRatio}).
 */
public final class Results {
  private Results() {}

  /**
   * @param endpoint the endpoint as it is now (its variants and weights)
   * @param counts every member's counts of this experiment
   */
  public static JsonObject of(ExperimentRecord experiment, Endpoint endpoint, List<MemberCounts> counts) {
    ExperimentSpec spec = experiment.spec();
    Map<String, VariantTally> merged = new java.util.LinkedHashMap<>();
    endpoint.variants().forEach(v -> merged.put(v.name(), VariantTally.EMPTY));
    for (MemberCounts c : counts) {
      c.variants().forEach((name, tally) -> merged.merge(name, tally, VariantTally::merge));
    }
    JsonArray variants = new JsonArray();
    long[] exposures = new long[endpoint.variants().size()];
    double[] weights = new double[endpoint.variants().size()];
    for (int i = 0; i < endpoint.variants().size(); i++) {
      Variant v = endpoint.variants().get(i);
      VariantTally t = merged.get(v.name());
      exposures[i] = t.exposures();
      weights[i] = v.weight();
      variants.add(new JsonObject().put("name", v.name()).put("weight", v.weight())
          .put("control", v.name().equals(spec.control())).put("exposures", t.exposures())
          .put("successes", t.successes()).put("errors", t.errors())
          .put("error_rate", t.successes() + t.errors() == 0 ? null : t.errorRate().mean())
          .put("latency_ms", new JsonObject().put("mean", nanToNull(t.latencyMs().n() == 0 ? Double.NaN
              : t.latencyMs().mean())).put("p50", nanToNull(t.latencyQuantileMs(0.5)))
              .put("p95", nanToNull(t.latencyQuantileMs(0.95))).put("p99", nanToNull(t.latencyQuantileMs(0.99))))
          .put("reward", new JsonObject().put("n", t.reward().n()).put("mean", t.reward().n() == 0 ? null
              : t.reward().mean())));
    }
    SampleRatio.Check srm = SampleRatio.check(exposures, weights);
    JsonArray comparisons = new JsonArray();
    VariantTally control = merged.get(spec.control());
    for (Variant v : endpoint.variants()) {
      if (!v.name().equals(spec.control()) && control != null) {
        comparisons.add(compare(spec, control, v.name(), merged.get(v.name())));
      }
    }
    return new JsonObject().put("experiment", spec.name()).put("id", experiment.id())
        .put("goal", spec.goal()).put("control", spec.control()).put("alpha", spec.alphaOrDefault())
        .put("members", counts.stream().map(MemberCounts::member).distinct().count())
        .put("sample_ratio", new JsonObject().put("p_value", srm.pValue()).put("mismatch", srm.mismatch()))
        .put("variants", variants).put("comparisons", comparisons);
  }

  private static JsonObject compare(ExperimentSpec spec, VariantTally control, String name, VariantTally treatment) {
    ExperimentSpec.Goal goal = spec.goalValue();
    Summary c = metric(goal, control);
    Summary t = metric(goal, treatment);
    JsonObject out = new JsonObject().put("variant", name).put("against", spec.control()).put("metric", spec.goal())
        .put("control_n", c.n()).put("variant_n", t.n());
    boolean enough = c.n() >= spec.minSamplesOrDefault() && t.n() >= spec.minSamplesOrDefault();
    if (c.n() < 2 || t.n() < 2) {
      return out.put("enough_data", false).put("verdict", "not enough data");
    }
    ConfidenceSequence.Difference d = ConfidenceSequence.compare(c, t, spec.alphaOrDefault(),
        spec.plannedSamplesOrDefault());
    String verdict;
    if (!enough) {
      verdict = "not enough data";
    } else if (!d.significant()) {
      verdict = "no difference yet";
    } else {
      boolean higherIsBetter = goal == ExperimentSpec.Goal.REWARD;
      verdict = (d.difference() > 0) == higherIsBetter ? "better" : "worse";
    }
    return out.put("control_mean", c.mean()).put("variant_mean", t.mean()).put("difference", d.difference())
        .put("lower", d.lower()).put("upper", d.upper()).put("p_value", d.pValue()).put("enough_data", enough)
        .put("verdict", verdict);
  }

  private static Summary metric(ExperimentSpec.Goal goal, VariantTally t) {
    return switch (goal) {
      case REWARD -> t.reward();
      case ERROR_RATE -> t.errorRate();
      case LATENCY -> t.latencyMs();
    };
  }

  private static Double nanToNull(double v) {
    return Double.isNaN(v) ? null : v;
  }
}
