package dev.gantry.runner.metrics;

import dev.gantry.runner.batching.BatchListener;
import dev.gantry.runner.inference.ErrorKind;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntSupplier;

/** The meters of one model version; also the batcher's listener. */
public final class VersionMetrics implements BatchListener {
  private static final Duration[] LATENCY_BUCKETS = {
      Duration.ofNanos(50_000), Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000),
      Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
      Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
      Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5)};
  private static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

  private final Tags tags;
  private final Counter success;
  private final Map<ErrorKind, Counter> failures = new EnumMap<>(ErrorKind.class);
  private final Timer queueTime;
  private final Timer computeTime;
  private final DistributionSummary batchSize;
  private final AtomicReference<IntSupplier> depthSource;
  private final IntSupplier depth;
  private final AtomicLong loadNanos;
  private final Duration loadTime;

  VersionMetrics(MeterRegistry registry, String model, String version, AtomicReference<IntSupplier> depthSource,
      IntSupplier depth, AtomicLong loadNanos, Duration loadTime) {
    this.tags = Tags.of("model", model, "version", version);
    this.success = Counter.builder(RunnerMetrics.PREFIX + "request.success")
        .description("Inference requests that succeeded").tags(tags).register(registry);
    for (ErrorKind kind : ErrorKind.values()) {
      failures.put(kind, Counter.builder(RunnerMetrics.PREFIX + "request.failure")
          .description("Inference requests that failed, by reason").tags(tags).tag("reason", kind.name())
          .register(registry));
    }
    this.queueTime = Timer.builder(RunnerMetrics.PREFIX + "queue.duration")
        .description("Time requests waited in the batcher queue").tags(tags)
        .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
    this.computeTime = Timer.builder(RunnerMetrics.PREFIX + "compute.duration")
        .description("Engine time per executed batch").tags(tags)
        .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
    this.batchSize = DistributionSummary.builder(RunnerMetrics.PREFIX + "batch.size")
        .description("Rows per executed batch").tags(tags)
        .serviceLevelObjectives(BATCH_BUCKETS).register(registry);
    this.depthSource = depthSource;
    this.depth = depth;
    this.loadNanos = loadNanos;
    this.loadTime = loadTime;
  }

  /** This version now serves: the queue-depth gauge reads its batcher, the load gauge its load time. */
  public void activate() {
    depthSource.set(depth);
    loadNanos.set(loadTime.toNanos());
  }

  public void success() {
    success.increment();
  }

  public void failure(ErrorKind kind) {
    failures.get(kind).increment();
  }

  @Override
  public void dequeued(long queueNanos) {
    queueTime.record(queueNanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void executed(int requests, long rows, long computeNanos) {
    computeTime.record(computeNanos, TimeUnit.NANOSECONDS);
    batchSize.record(rows);
  }

  /** Stops the queue-depth gauge reading a retired batcher, unless a newer one took over. */
  public void retire() {
    depthSource.compareAndSet(depth, () -> 0);
  }
}
