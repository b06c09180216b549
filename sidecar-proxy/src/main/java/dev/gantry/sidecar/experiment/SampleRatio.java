package dev.gantry.sidecar.experiment;

import java.util.ArrayList;
import java.util.List;
import org.hipparchus.stat.inference.ChiSquareTest;

/**
 * The sample-ratio-mismatch check: are the exposures each variant received consistent with the weights the split
 * was given? A chi-square goodness-of-fit test of the exposures against the weights (variants of weight 0 left out);
 * a p-value below {@link #FLAG_BELOW} means the split itself is not honest (a bug, a bot, a cache in front of one
 * variant) and no difference it shows can be trusted.
 */
public final class SampleRatio {
  /** The p-value below which a mismatch is flagged, as experimentation platforms do. */
  public static final double FLAG_BELOW = 0.001;

  private SampleRatio() {}

  /** The check's outcome: its p-value and whether it is flagged. */
  public record Check(double pValue, boolean mismatch) {}

  /**
   * @param exposures per variant
   * @param weights per variant, in the same order; any positive scale
   */
  public static Check check(long[] exposures, double[] weights) {
    if (exposures.length != weights.length) {
      throw new IllegalArgumentException(exposures.length + " exposure counts for " + weights.length + " weights");
    }
    List<Integer> used = new ArrayList<>();
    long total = 0;
    double weightSum = 0;
    for (int i = 0; i < weights.length; i++) {
      if (weights[i] > 0) {
        used.add(i);
        total += exposures[i];
        weightSum += weights[i];
      }
    }
    if (used.size() < 2 || total == 0) {
      return new Check(1, false);
    }
    double[] expected = new double[used.size()];
    long[] observed = new long[used.size()];
    for (int j = 0; j < used.size(); j++) {
      expected[j] = total * weights[used.get(j)] / weightSum;
      observed[j] = exposures[used.get(j)];
    }
    double p = new ChiSquareTest().chiSquareTest(expected, observed);
    return new Check(p, p < FLAG_BELOW);
  }
}
