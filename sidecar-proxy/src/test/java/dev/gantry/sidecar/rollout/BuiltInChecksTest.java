package dev.gantry.sidecar.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gantry.sidecar.experiment.ExperimentCounts;
import dev.gantry.sidecar.experiment.VariantTally;
import java.util.OptionalDouble;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Interval checks from Gantry's own counts: a healthy, a failing, a slow and a quiet canary. */
class BuiltInChecksTest {
  static final Thresholds T = new Thresholds(OptionalDouble.of(0.05), OptionalDouble.of(2.0), OptionalDouble.of(50),
      OptionalDouble.of(100), OptionalDouble.of(1.5), OptionalDouble.empty(), 0.05, 10_000, 100);

  /** {@code n} answers, a share {@code errorRate} of them errors, latencies around {@code ms}. */
  static VariantTally tally(int n, double errorRate, double ms, long seed) {
    ExperimentCounts counts = new ExperimentCounts();
    ExperimentCounts.Counter c = counts.of("x", "v");
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = 0; i < n; i++) {
      c.exposed();
      if (random.nextDouble() < errorRate) {
        c.failed();
      } else {
        c.succeeded(ms * (0.5 + random.nextDouble()));
      }
    }
    return counts.snapshot().get("x").get("v");
  }

  static Analysis.Verdict verdict(Analysis a, String check) {
    return a.checks().stream().filter(c -> c.name().equals(check)).findFirst().orElseThrow().verdict();
  }

  @Test
  void aHealthyCanaryPasses() {
    VariantTally stable = tally(2000, 0.001, 8, 1);
    VariantTally canary = tally(400, 0.001, 8, 2);
    Analysis a = BuiltInChecks.analyse(T, stable, canary, stable, canary);
    assertThat(a.verdict()).as(a.checks().toString()).isEqualTo(Analysis.Verdict.PASS);
  }

  @Test
  void aCanaryFailingOnSomeInputsFailsAbsoluteRelativeAndSequentialChecks() {
    VariantTally stable = tally(2000, 0.0, 8, 3);
    VariantTally canary = tally(400, 0.2, 8, 4);
    Analysis a = BuiltInChecks.analyse(T, stable, canary, stable, canary);
    assertThat(a.verdict()).isEqualTo(Analysis.Verdict.FAIL);
    assertThat(verdict(a, "error_rate")).isEqualTo(Analysis.Verdict.FAIL);
    assertThat(verdict(a, "error_rate_ratio")).isEqualTo(Analysis.Verdict.FAIL);
    Analysis.Check sequential = a.checks().stream().filter(c -> c.name().equals("error_rate_sequential"))
        .findFirst().orElseThrow();
    assertThat(sequential.verdict()).isEqualTo(Analysis.Verdict.FAIL);
    assertThat(sequential.pValue().getAsDouble()).isLessThan(0.05);
  }

  @Test
  void aSlowerCanaryFailsTheLatencyRatio() {
    VariantTally stable = tally(2000, 0.0, 8, 5);
    VariantTally canary = tally(400, 0.0, 30, 6);
    Analysis a = BuiltInChecks.analyse(T, stable, canary, stable, canary);
    assertThat(verdict(a, "latency_p99_ratio")).isEqualTo(Analysis.Verdict.FAIL);
    assertThat(verdict(a, "error_rate")).isEqualTo(Analysis.Verdict.PASS);
    assertThat(a.verdict()).isEqualTo(Analysis.Verdict.FAIL);
  }

  @Test
  void withoutEnoughTrafficEveryCheckIsInconclusiveAndHasNoValue() {
    VariantTally stable = tally(2000, 0.0, 8, 7);
    VariantTally quiet = tally(20, 0.0, 8, 8);
    Analysis a = BuiltInChecks.analyse(T, stable, quiet, stable, quiet);
    assertThat(a.verdict()).isEqualTo(Analysis.Verdict.INCONCLUSIVE);
    assertThat(a.checks()).allSatisfy(c -> {
      assertThat(c.verdict()).isEqualTo(Analysis.Verdict.INCONCLUSIVE);
      assertThat(c.value()).isEmpty();
    });
    Analysis none = BuiltInChecks.analyse(T, VariantTally.EMPTY, VariantTally.EMPTY, VariantTally.EMPTY,
        VariantTally.EMPTY);
    assertThat(none.verdict()).isEqualTo(Analysis.Verdict.INCONCLUSIVE);
  }
}
