package dev.gantry.sidecar.experiment;

import java.util.Arrays;

/**
 * What one member counted of one variant in one experiment: summaries that add up exactly across members.
 *
 * @param exposures requests the split sent to the variant
 * @param successes of those, answered successfully
 * @param errors of those, answered with an error (a client that went away is neither)
 * @param latencyMs latency of the successes, in milliseconds
 * @param latencyBuckets counts of the successes' latencies by {@link #LATENCY_BOUNDS_MS} (one more, above the last)
 * @param reward the rewards clients sent back for the variant's requests
 */
public record VariantTally(long exposures, long successes, long errors, Summary latencyMs, long[] latencyBuckets,
    Summary reward) {
  /**
   * Upper bounds of the latency buckets, in ms: 0.1 ms to about 30 s, each 20 % above the last, so that a quantile
   * read from them is within 10 % of the true one (coarser buckets put a canary 2× slower in the same bucket as
   * stable, and a relative latency check could not see it).
   */
  public static final double[] LATENCY_BOUNDS_MS = bounds(0.1, 1.2, 30_000);
  private static double[] bounds(double first, double factor, double last) {
    java.util.List<Double> b = new java.util.ArrayList<>();
    for (double x = first; x < last * factor; x *= factor) {
      b.add(Math.round(x * 1e6) / 1e6);
    }
    return b.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /** The bucket a latency falls in (the last one: above every bound). */
  public static int bucketOf(double latencyMs) {
    int i = Arrays.binarySearch(LATENCY_BOUNDS_MS, latencyMs);
    return i >= 0 ? i : -i - 1;
  }

  /** Nothing counted. */
  public static final VariantTally EMPTY = new VariantTally(0, 0, 0, Summary.EMPTY,
      new long[LATENCY_BOUNDS_MS.length + 1], Summary.EMPTY);

  public VariantTally {
    latencyBuckets = latencyBuckets == null ? new long[LATENCY_BOUNDS_MS.length + 1] : latencyBuckets.clone();
    latencyMs = latencyMs == null ? Summary.EMPTY : latencyMs;
    reward = reward == null ? Summary.EMPTY : reward;
  }

  /** The latency bucket counts (a copy: the tally stays immutable). */
  @Override
  public long[] latencyBuckets() {
    return latencyBuckets.clone();
  }

  /** Both members' counts. */
  public VariantTally merge(VariantTally other) {
    long[] buckets = latencyBuckets.clone();
    for (int i = 0; i < buckets.length && i < other.latencyBuckets.length; i++) {
      buckets[i] += other.latencyBuckets[i];
    }
    return new VariantTally(exposures + other.exposures, successes + other.successes, errors + other.errors,
        latencyMs.merge(other.latencyMs), buckets, reward.merge(other.reward));
  }

  /**
   * What was counted after {@code earlier} (a previous reading of the same cumulative counts): the counts of an
   * interval. Sums of squares subtract exactly as sums do.
   */
  public VariantTally minus(VariantTally earlier) {
    long[] buckets = latencyBuckets.clone();
    for (int i = 0; i < buckets.length && i < earlier.latencyBuckets.length; i++) {
      buckets[i] = Math.max(0, buckets[i] - earlier.latencyBuckets[i]);
    }
    return new VariantTally(Math.max(0, exposures - earlier.exposures), Math.max(0, successes - earlier.successes),
        Math.max(0, errors - earlier.errors), minus(latencyMs, earlier.latencyMs), buckets,
        minus(reward, earlier.reward));
  }

  private static Summary minus(Summary a, Summary b) {
    return a.n() <= b.n() ? Summary.EMPTY : new Summary(a.n() - b.n(), a.sum() - b.sum(),
        Math.max(0, a.sumOfSquares() - b.sumOfSquares()));
  }

  /** Errors among answered requests as a summary of 0/1 observations (for comparing error rates). */
  public Summary errorRate() {
    return new Summary(successes + errors, errors, errors);
  }

  /**
   * The latency below which a share {@code q} of the successes fell, interpolated inside its bucket; NaN with none.
   */
  public double latencyQuantileMs(double q) {
    long total = Arrays.stream(latencyBuckets).sum();
    if (total == 0) {
      return Double.NaN;
    }
    double rank = q * total;
    long seen = 0;
    for (int i = 0; i < latencyBuckets.length; i++) {
      if (seen + latencyBuckets[i] >= rank && latencyBuckets[i] > 0) {
        double lower = i == 0 ? 0 : LATENCY_BOUNDS_MS[i - 1];
        double upper = i < LATENCY_BOUNDS_MS.length ? LATENCY_BOUNDS_MS[i] : lower * 2;
        return lower + (upper - lower) * (rank - seen) / latencyBuckets[i];
      }
      seen += latencyBuckets[i];
    }
    return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1];
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof VariantTally t && exposures == t.exposures && successes == t.successes && errors == t.errors
        && latencyMs.equals(t.latencyMs) && Arrays.equals(latencyBuckets, t.latencyBuckets) && reward.equals(t.reward);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(exposures, successes, errors, latencyMs, Arrays.hashCode(latencyBuckets), reward);
  }

  @Override
  public String toString() {
    return "VariantTally[exposures=" + exposures + ", successes=" + successes + ", errors=" + errors + ", reward="
        + reward + "]";
  }
}
