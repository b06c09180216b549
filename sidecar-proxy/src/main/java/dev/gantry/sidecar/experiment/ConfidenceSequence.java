package dev.gantry.sidecar.experiment;

/**
 * An always-valid comparison of two means: an asymptotic confidence sequence for the difference treatment − control,
 * valid at every sample size at once, so results may be read as often as anyone likes without raising the false
 * positive rate (peeking is allowed by construction).
 *
 * <p>The boundary is the two-sided normal-mixture (Robbins) boundary of the asymptotic confidence sequences of
 * I. Waudby-Smith, D. Arbour, R. Sinha, E. H. Kennedy and A. Ramdas, "Time-uniform central limit theory and
 * asymptotic confidence sequences", arXiv:2103.06476: for a mean estimated from t observations with standard
 * deviation σ̂,
 *
 * <pre>
 *   μ̂ ± σ̂ · sqrt( 2 (t ρ² + 1) / (t² ρ²) · log( sqrt(t ρ² + 1) / α ) )
 * </pre>
 *
 * <p>For a difference of two means with N = n_c + n_t observations in all, σ̂² is N times the variance of the
 * difference of the sample means, N · (s_c² / n_c + s_t² / n_t), and t is N (the form GrowthBook's sequential tests
 * use). ρ sets where the sequence is tightest; {@link #rho} takes the value the paper gives for a planned sample size
 * N*: ρ² = (−2 log α + log(−2 log α + 1)) / N*.
 *
 * <p>The always-valid p-value is the smallest α at which the sequence excludes 0, with ρ held fixed:
 * p = min(1, sqrt(N ρ² + 1) · exp(−d² N² ρ² / (2 σ̂² (N ρ² + 1)))) for a difference d.
 */
public final class ConfidenceSequence {
  private ConfidenceSequence() {}

  /** The difference treatment − control, its always-valid interval and p-value. */
  public record Difference(double difference, double lower, double upper, double pValue) {
    /** Whether the interval excludes 0. */
    public boolean significant() {
      return lower > 0 || upper < 0;
    }
  }

  /** The tuning parameter that makes the sequence tightest near {@code plannedN} observations. */
  public static double rho(double alpha, long plannedN) {
    checkAlpha(alpha);
    if (plannedN < 1) {
      throw new IllegalArgumentException("the planned sample size must be positive, got " + plannedN);
    }
    double l = -2 * Math.log(alpha);
    return Math.sqrt((l + Math.log(l + 1)) / plannedN);
  }

  /**
   * Compares the treatment's mean with the control's.
   *
   * @param alpha 1 − the coverage of the sequence (e.g. 0.05)
   * @param plannedN the total sample size near which the sequence should be tightest
   * @throws IllegalArgumentException with fewer than two observations in an arm
   */
  public static Difference compare(Summary control, Summary treatment, double alpha, long plannedN) {
    if (control.n() < 2 || treatment.n() < 2) {
      throw new IllegalArgumentException("each arm needs at least two observations, got " + control.n() + " and "
          + treatment.n());
    }
    double rho = rho(alpha, plannedN);
    double d = treatment.mean() - control.mean();
    long n = control.n() + treatment.n();
    double varianceOfDifference = control.variance() / control.n() + treatment.variance() / treatment.n();
    double sigma2 = n * varianceOfDifference;
    double nr2 = n * rho * rho;
    double half = Math.sqrt(sigma2) * Math.sqrt(2 * (nr2 + 1) / ((double) n * n * rho * rho)
        * Math.log(Math.sqrt(nr2 + 1) / alpha));
    double p = sigma2 == 0 ? (d == 0 ? 1 : 0)
        : Math.min(1, Math.sqrt(nr2 + 1) * Math.exp(-d * d * n * nr2 / (2 * sigma2 * (nr2 + 1))));
    return new Difference(d, d - half, d + half, p);
  }

  private static void checkAlpha(double alpha) {
    if (!(alpha > 0 && alpha < 1)) {
      throw new IllegalArgumentException("alpha must be between 0 and 1, got " + alpha);
    }
  }
}
