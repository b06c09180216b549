package dev.gantry.sidecar.experiment;

/**
 * What the statistics see of one variant's observations of one metric: how many, their sum and the sum of their
 * squares. Summaries from several sidecars merge by adding them, so a merged summary is exactly the summary of all
 * observations, and nothing else is needed to compare variants.
 *
 * @param n observations
 * @param sum their sum
 * @param sumOfSquares the sum of their squares
 */
public record Summary(long n, double sum, double sumOfSquares) {
  /** No observations. */
  public static final Summary EMPTY = new Summary(0, 0, 0);

  public Summary {
    if (n < 0) {
      throw new IllegalArgumentException("a summary of " + n + " observations");
    }
  }

  /** This summary with one more observation. */
  public Summary add(double x) {
    return new Summary(n + 1, sum + x, sumOfSquares + x * x);
  }

  /** The summary of both sets of observations. */
  public Summary merge(Summary other) {
    return new Summary(n + other.n, sum + other.sum, sumOfSquares + other.sumOfSquares);
  }

  /** The mean; 0 with no observations. */
  public double mean() {
    return n == 0 ? 0 : sum / n;
  }

  /** The sample variance (divisor n − 1); 0 with fewer than two observations. */
  public double variance() {
    if (n < 2) {
      return 0;
    }
    double v = (sumOfSquares - sum * sum / n) / (n - 1);
    return Math.max(0, v);
  }
}
