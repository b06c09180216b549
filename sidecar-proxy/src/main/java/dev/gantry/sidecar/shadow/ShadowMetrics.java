package dev.gantry.sidecar.shadow;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Shadow metrics, labelled by endpoint and shadow variant (both from configured shadows only):
 * {@code gantry_shadow_requests_total{outcome}}, {@code gantry_shadow_agreement_total{agreement}}, histograms of
 * the largest and the mean absolute difference of a copy's outputs, and of how much slower or faster the shadow
 * answered.
 */
public final class ShadowMetrics {
  /** How a copy ended. */
  public enum Outcome {
    /** Both answered; compared. */
    COMPARED,
    /** Both answered, with outputs that cannot be compared (other names, shapes or datatypes). */
    INCOMPARABLE,
    /** The shadow failed (error, timeout, unreachable) where the primary answered. */
    SHADOW_ERROR,
    /** The primary failed where the shadow answered. */
    PRIMARY_ERROR,
    /** Both failed. */
    BOTH_ERROR,
    /** Not sent: the shadow's copies in flight were at their limit. */
    DROPPED,
    /** Not sent: the endpoint no longer has the shadow's variant. */
    NO_VARIANT
  }

  private static final double[] DIFFERENCE_BUCKETS = {1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.05, 0.1, 0.2, 0.5, 1};
  private static final Duration[] DELTA_BUCKETS = {Duration.ofNanos(100_000), Duration.ofNanos(500_000),
      Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
      Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
      Duration.ofSeconds(1), Duration.ofSeconds(5)};

  private final MeterRegistry registry;
  private final Map<String, Object> meters = new ConcurrentHashMap<>();

  public ShadowMetrics(MeterRegistry registry) {
    this.registry = requireNonNull(registry, "registry");
  }

  void outcome(String endpoint, String shadow, Outcome outcome) {
    counter("gantry.shadow.requests", "Copies of endpoint requests sent to a shadow variant, by how they ended",
        endpoint, shadow, "outcome", outcome.name().toLowerCase(java.util.Locale.ROOT)).increment();
  }

  void compared(String endpoint, String shadow, Comparison c) {
    counter("gantry.shadow.agreement", "Compared copies whose answer agreed with the primary's (same top class)",
        endpoint, shadow, "agreement", c.agree() ? "agree" : "disagree").increment();
    summary("gantry.shadow.max.abs.difference", "Largest absolute difference of a copy's outputs from the primary's",
        endpoint, shadow).record(c.maxAbsDifference());
    summary("gantry.shadow.mean.abs.difference", "Mean absolute difference of a copy's outputs from the primary's",
        endpoint, shadow).record(c.meanAbsDifference());
  }

  void latencyDelta(String endpoint, String shadow, long shadowMinusPrimaryNanos) {
    String direction = shadowMinusPrimaryNanos >= 0 ? "slower" : "faster";
    ((Timer) meters.computeIfAbsent("delta\u0000" + endpoint + "\u0000" + shadow + "\u0000" + direction,
        k -> Timer.builder("gantry.shadow.latency.delta")
            .description("How much slower (or faster) the shadow answered than the primary")
            .tags("endpoint", endpoint, "shadow", shadow, "direction", direction)
            .serviceLevelObjectives(DELTA_BUCKETS).register(registry)))
        .record(Math.abs(shadowMinusPrimaryNanos), TimeUnit.NANOSECONDS);
  }

  private Counter counter(String name, String help, String endpoint, String shadow, String tag, String value) {
    return (Counter) meters.computeIfAbsent(name + "\u0000" + endpoint + "\u0000" + shadow + "\u0000" + value,
        k -> Counter.builder(name).description(help).tags("endpoint", endpoint, "shadow", shadow, tag, value)
            .register(registry));
  }

  private DistributionSummary summary(String name, String help, String endpoint, String shadow) {
    return (DistributionSummary) meters.computeIfAbsent(name + "\u0000" + endpoint + "\u0000" + shadow,
        k -> DistributionSummary.builder(name).description(help).tags("endpoint", endpoint, "shadow", shadow)
            .serviceLevelObjectives(DIFFERENCE_BUCKETS).register(registry));
  }
}
