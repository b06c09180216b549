package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import java.util.OptionalDouble;

/**
 * What a canary's interval must stay within, each check optional.
 *
 * @param maxErrorRate the canary's error rate at most this
 * @param maxErrorRateRatio the canary's error rate at most this many times stable's
 * @param maxP95Ms the canary's p95 latency at most this, in ms
 * @param maxP99Ms the canary's p99 latency at most this, in ms
 * @param maxP99Ratio the canary's p99 latency at most this many times stable's
 * @param maxP95Ratio the canary's p95 latency at most this many times stable's
 * @param alpha of the sequential test of the canary's error rate against stable's (fails early when significantly
 *     worse)
 * @param plannedRequests requests in all where the sequential test is tightest
 * @param minRequests canary requests an interval needs; fewer make every check inconclusive
 */
public record Thresholds(OptionalDouble maxErrorRate, OptionalDouble maxErrorRateRatio, OptionalDouble maxP95Ms,
    OptionalDouble maxP99Ms, OptionalDouble maxP99Ratio, OptionalDouble maxP95Ratio, double alpha,
    long plannedRequests, long minRequests) {
  public Thresholds {
    requireNonNull(maxErrorRate, "maxErrorRate");
    requireNonNull(maxErrorRateRatio, "maxErrorRateRatio");
    requireNonNull(maxP95Ms, "maxP95Ms");
    requireNonNull(maxP99Ms, "maxP99Ms");
    requireNonNull(maxP99Ratio, "maxP99Ratio");
    requireNonNull(maxP95Ratio, "maxP95Ratio");
    if (!(alpha > 0 && alpha < 1) || plannedRequests < 100 || minRequests < 1) {
      throw new IllegalArgumentException("alpha must be in (0, 1), planned requests at least 100 and the minimum"
          + " requests at least 1");
    }
  }
}
