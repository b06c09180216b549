package dev.gantry.sidecar.rollout;

import dev.gantry.sidecar.experiment.ConfidenceSequence;
import dev.gantry.sidecar.experiment.VariantTally;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;

/**
 * The checks of an analysis interval from Gantry's own counts (every sidecar's, merged): the canary against its
 * thresholds and against stable over the interval, and the sequential test of its error rate over the whole step.
 * Too few canary requests make every check inconclusive; a value that cannot be computed (no successes, NaN) is
 * inconclusive, never a pass.
 */
public final class BuiltInChecks {
  private BuiltInChecks() {}

  /**
   * @param stable stable's counts in the interval
   * @param canary the canary's counts in the interval
   * @param stableSoFar stable's counts since the step began (for the sequential test)
   * @param canarySoFar the canary's counts since the step began
   */
  public static Analysis analyse(Thresholds t, VariantTally stable, VariantTally canary, VariantTally stableSoFar,
      VariantTally canarySoFar) {
    long answered = canary.successes() + canary.errors();
    List<Analysis.Check> checks = new ArrayList<>();
    boolean enough = answered >= t.minRequests();
    double canaryRate = answered == 0 ? Double.NaN : canary.errorRate().mean();
    add(checks, enough, "error_rate", canaryRate, t.maxErrorRate());
    t.maxErrorRateRatio().ifPresent(max -> checks.add(ratio(t, max, enough, stable, canary)));
    add(checks, enough, "latency_p95_ms", canary.latencyQuantileMs(0.95), t.maxP95Ms());
    add(checks, enough, "latency_p99_ms", canary.latencyQuantileMs(0.99), t.maxP99Ms());
    add(checks, enough, "latency_p95_ratio", canary.latencyQuantileMs(0.95) / stable.latencyQuantileMs(0.95),
        t.maxP95Ratio());
    add(checks, enough, "latency_p99_ratio", canary.latencyQuantileMs(0.99) / stable.latencyQuantileMs(0.99),
        t.maxP99Ratio());
    checks.add(sequential(t, enough, stableSoFar, canarySoFar));
    return Analysis.of(checks);
  }

  private static void add(List<Analysis.Check> checks, boolean enough, String name, double value,
      OptionalDouble max) {
    if (max.isEmpty()) {
      return;
    }
    String threshold = "<= " + String.format(Locale.ROOT, "%g", max.getAsDouble());
    if (!enough || Double.isNaN(value)) {
      checks.add(new Analysis.Check(name, OptionalDouble.empty(), threshold, Analysis.Verdict.INCONCLUSIVE,
          OptionalDouble.empty()));
      return;
    }
    checks.add(new Analysis.Check(name, OptionalDouble.of(value), threshold,
        value <= max.getAsDouble() ? Analysis.Verdict.PASS : Analysis.Verdict.FAIL, OptionalDouble.empty()));
  }

  /**
   * The canary's error rate relative to stable's. A ratio of small counts is mostly noise (2 errors in 400 against 2
   * in 2 000 is "5×"), so the check fails only when the always-valid lower bound of the difference exceeds what the
   * ratio allows: canary − stable > (max − 1) × stable. The value shown is the plain ratio (a stable without errors
   * counted as one error, so that it exists).
   */
  private static Analysis.Check ratio(Thresholds t, double max, boolean enough, VariantTally stable,
      VariantTally canary) {
    String threshold = "<= " + String.format(Locale.ROOT, "%g", max) + " x stable (on the always-valid lower bound)";
    long stableAnswered = stable.successes() + stable.errors();
    long canaryAnswered = canary.successes() + canary.errors();
    if (!enough || stableAnswered < 2 || canaryAnswered < 2) {
      return new Analysis.Check("error_rate_ratio", OptionalDouble.empty(), threshold, Analysis.Verdict.INCONCLUSIVE,
          OptionalDouble.empty());
    }
    double stableRate = stable.errorRate().mean();
    double value = canary.errorRate().mean() / Math.max(stableRate, 1.0 / stableAnswered);
    ConfidenceSequence.Difference d = ConfidenceSequence.compare(stable.errorRate(), canary.errorRate(), t.alpha(),
        t.plannedRequests());
    boolean fails = d.lower() > (max - 1) * stableRate;
    return new Analysis.Check("error_rate_ratio", OptionalDouble.of(value), threshold,
        fails ? Analysis.Verdict.FAIL : Analysis.Verdict.PASS, OptionalDouble.of(d.pValue()));
  }

  /** Fails when the canary's error rate is significantly above stable's (always-valid, so it may fail early). */
  private static Analysis.Check sequential(Thresholds t, boolean enough, VariantTally stable, VariantTally canary) {
    String threshold = "not significantly worse at alpha " + t.alpha();
    if (!enough || stable.successes() + stable.errors() < 2 || canary.successes() + canary.errors() < 2) {
      return new Analysis.Check("error_rate_sequential", OptionalDouble.empty(), threshold,
          Analysis.Verdict.INCONCLUSIVE, OptionalDouble.empty());
    }
    ConfidenceSequence.Difference d = ConfidenceSequence.compare(stable.errorRate(), canary.errorRate(), t.alpha(),
        t.plannedRequests());
    boolean worse = d.significant() && d.difference() > 0;
    return new Analysis.Check("error_rate_sequential", OptionalDouble.of(d.difference()), threshold,
        worse ? Analysis.Verdict.FAIL : Analysis.Verdict.PASS, OptionalDouble.of(d.pValue()));
  }
}
