package dev.gantry.sidecar.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.hipparchus.distribution.continuous.NormalDistribution;
import org.junit.jupiter.api.Test;

/**
 * The experiment statistics against values computed by scipy and statsmodels
 * ({@code src/test/resources/experiment/make_reference.py}, committed with its output), and by simulation: A/A
 * experiments read after every batch stay significant no more often than α, where reading a fixed-horizon test as
 * often does not; a real effect is found.
 */
class ExperimentStatisticsTest {
  static JsonObject reference() throws IOException {
    try (InputStream in = ExperimentStatisticsTest.class.getResourceAsStream("/experiment/reference.json")) {
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  static Summary summary(JsonObject o) {
    return new Summary(o.getLong("n"), o.getDouble("sum"), o.getDouble("sum_of_squares"));
  }

  @Test
  void sampleRatioMismatchMatchesScipysChiSquare() throws IOException {
    JsonArray cases = reference().getJsonArray("srm");
    assertThat(cases).hasSizeGreaterThan(5);
    for (int i = 0; i < cases.size(); i++) {
      JsonObject c = cases.getJsonObject(i);
      long[] exposures = c.getJsonArray("exposures").stream().mapToLong(v -> ((Number) v).longValue()).toArray();
      double[] weights = c.getJsonArray("weights").stream().mapToDouble(v -> ((Number) v).doubleValue()).toArray();
      double expected = c.getDouble("p_value");
      SampleRatio.Check check = SampleRatio.check(exposures, weights);
      assertThat(check.pValue()).as("case %s", c.encode()).isCloseTo(expected, within(1e-9 + expected * 1e-7));
      assertThat(check.mismatch()).isEqualTo(expected < SampleRatio.FLAG_BELOW);
    }
    assertThat(SampleRatio.check(new long[] {9120, 880}, new double[] {90, 10}).mismatch()).isTrue();
    assertThat(SampleRatio.check(new long[] {9000, 1000}, new double[] {90, 10}).mismatch()).isFalse();
  }

  @Test
  void sequencesMatchTheReferenceAndContainTheFixedHorizonInterval() throws IOException {
    JsonArray cases = reference().getJsonArray("sequences");
    for (int i = 0; i < cases.size(); i++) {
      JsonObject c = cases.getJsonObject(i);
      ConfidenceSequence.Difference d = ConfidenceSequence.compare(summary(c.getJsonObject("control")),
          summary(c.getJsonObject("treatment")), c.getDouble("alpha"), c.getLong("planned_n"));
      String as = c.getString("case") + " alpha " + c.getDouble("alpha");
      assertThat(d.difference()).as(as).isCloseTo(c.getDouble("difference"), within(1e-9));
      assertThat(d.lower()).as(as).isCloseTo(c.getDouble("lower"), within(1e-9));
      assertThat(d.upper()).as(as).isCloseTo(c.getDouble("upper"), within(1e-9));
      assertThat(d.pValue()).as(as).isCloseTo(c.getDouble("p_value"), within(1e-9 + c.getDouble("p_value") * 1e-7));
      // always valid costs width: the sequence holds the fixed-horizon interval statsmodels computes
      assertThat(d.lower()).as(as).isLessThanOrEqualTo(c.getDouble("fixed_horizon_lower"));
      assertThat(d.upper()).as(as).isGreaterThanOrEqualTo(c.getDouble("fixed_horizon_upper"));
      assertThat(d.significant()).as(as).isEqualTo(d.pValue() < c.getDouble("alpha"));
    }
  }

  @Test
  void summariesMergeExactly() {
    SplittableRandom random = new SplittableRandom(7);
    Summary all = Summary.EMPTY;
    Summary a = Summary.EMPTY;
    Summary b = Summary.EMPTY;
    for (int i = 0; i < 1000; i++) {
      double x = random.nextDouble() * 10;
      all = all.add(x);
      a = i % 3 == 0 ? a.add(x) : a;
      b = i % 3 == 0 ? b : b.add(x);
    }
    Summary merged = a.merge(b);
    assertThat(merged.n()).isEqualTo(all.n());
    assertThat(merged.mean()).isCloseTo(all.mean(), within(1e-12));
    assertThat(merged.variance()).isCloseTo(all.variance(), within(1e-9));
  }

  /** A/A experiments on a 10 % conversion rate, 300 of them, each read after every batch of 200 per arm. */
  @Test
  void aaExperimentsReadAfterEveryBatchAreSignificantNoMoreOftenThanAlpha() {
    double alpha = 0.05;
    int experiments = 300;
    int batches = 20;
    int batch = 200;
    SplittableRandom random = new SplittableRandom(20261129);
    NormalDistribution normal = new NormalDistribution(0, 1);
    int sequentialFalsePositives = 0;
    int naiveFalsePositives = 0;
    for (int e = 0; e < experiments; e++) {
      Summary control = Summary.EMPTY;
      Summary treatment = Summary.EMPTY;
      boolean sequentialSignificant = false;
      boolean naiveSignificant = false;
      for (int look = 0; look < batches; look++) {
        for (int i = 0; i < batch; i++) {
          control = control.add(random.nextDouble() < 0.10 ? 1 : 0);
          treatment = treatment.add(random.nextDouble() < 0.10 ? 1 : 0);
        }
        ConfidenceSequence.Difference d = ConfidenceSequence.compare(control, treatment, alpha, 2L * batch * batches);
        sequentialSignificant |= d.significant();
        double se = Math.sqrt(control.variance() / control.n() + treatment.variance() / treatment.n());
        double z = se == 0 ? 0 : d.difference() / se;
        naiveSignificant |= 2 * (1 - normal.cumulativeProbability(Math.abs(z))) < alpha;
      }
      sequentialFalsePositives += sequentialSignificant ? 1 : 0;
      naiveFalsePositives += naiveSignificant ? 1 : 0;
    }
    double sequentialRate = (double) sequentialFalsePositives / experiments;
    double naiveRate = (double) naiveFalsePositives / experiments;
    System.out.printf("A/A, %d experiments read %d times: sequential %.3f, fixed-horizon %.3f significant%n",
        experiments, batches, sequentialRate, naiveRate);
    // the naive test read 20 times finds "effects" far more often than alpha: the simulation can see inflation
    assertThat(naiveRate).as("fixed-horizon test read after every batch").isGreaterThan(2 * alpha);
    assertThat(sequentialRate).as("sequential test read after every batch").isLessThanOrEqualTo(alpha);
  }

  @Test
  void aRealEffectIsFound() {
    SplittableRandom random = new SplittableRandom(42);
    int found = 0;
    int experiments = 50;
    for (int e = 0; e < experiments; e++) {
      Summary control = Summary.EMPTY;
      Summary treatment = Summary.EMPTY;
      for (int i = 0; i < 6000; i++) {
        control = control.add(random.nextDouble() < 0.10 ? 1 : 0);
        treatment = treatment.add(random.nextDouble() < 0.13 ? 1 : 0);
      }
      ConfidenceSequence.Difference d = ConfidenceSequence.compare(control, treatment, 0.05, 12_000);
      found += d.significant() && d.lower() > 0 ? 1 : 0;
    }
    System.out.printf("10 %% vs 13 %%, 6000 per arm: found in %d of %d%n", found, experiments);
    assertThat(found).as("experiments of 6000 per arm finding 10 %% → 13 %%").isGreaterThanOrEqualTo(40);
  }
}
