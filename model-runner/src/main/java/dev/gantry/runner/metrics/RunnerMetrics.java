package dev.gantry.runner.metrics;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntSupplier;

/**
 * The runner's Prometheus metrics. Per model and version: requests succeeded and failed,
 * queue and compute time, batch size, queue depth and load time; plus JVM metrics.
 */
public final class RunnerMetrics implements AutoCloseable {
  static final String PREFIX = "gantry.runner.";

  private final MeterRegistry registry;
  private final JvmGcMetrics gc = new JvmGcMetrics();
  private final Map<String, AtomicReference<IntSupplier>> queueDepths = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> loadNanos = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> queueCapacities = new ConcurrentHashMap<>();

  public RunnerMetrics(MeterRegistry registry) {
    this.registry = requireNonNull(registry, "registry");
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    gc.bindTo(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /**
   * Meters of one model version. Its queue-depth and load-duration gauges keep reading the
   * version that serves until this one is {@linkplain VersionMetrics#activate() activated}: a
   * version that is started but never served (a reload that fails part-way) does not take them over.
   *
   * @param queueDepth reads the version's queue
   * @param loadTime how long the version took to load and warm up
   */
  public VersionMetrics version(String model, String version, IntSupplier queueDepth, Duration loadTime) {
    String key = model + "\u0000" + version;
    AtomicReference<IntSupplier> depth = queueDepths.computeIfAbsent(key, k -> {
      AtomicReference<IntSupplier> ref = new AtomicReference<>(() -> 0);
      Gauge.builder(PREFIX + "queue.depth", ref, r -> r.get().getAsInt())
          .description("Requests waiting in the batcher queue")
          .tags("model", model, "version", version)
          .strongReference(true)
          .register(registry);
      return ref;
    });
    AtomicLong load = loadNanos.computeIfAbsent(key, k -> {
      AtomicLong nanos = new AtomicLong();
      Gauge.builder(PREFIX + "model.load.duration", nanos, n -> n.get() / 1e9)
          .description("Time the serving model version took to load and warm up")
          .baseUnit("seconds")
          .tags("model", model, "version", version)
          .strongReference(true)
          .register(registry);
      return nanos;
    });
    return new VersionMetrics(registry, model, version, depth, queueDepth, load, loadTime);
  }

  /**
   * The most requests a model version's queue holds before it refuses more ({@code max_queue_size}): with
   * {@code gantry_runner_queue_depth}, how near full the queue is.
   */
  public void queueCapacity(String model, String version, int capacity) {
    queueCapacities.computeIfAbsent(model + "\u0000" + version, k -> {
      AtomicLong value = new AtomicLong();
      Gauge.builder(PREFIX + "queue.capacity", value, AtomicLong::get)
          .description("Most requests the batcher queue holds before refusing more (max_queue_size)")
          .tags("model", model, "version", version)
          .strongReference(true)
          .register(registry);
      return value;
    }).set(capacity);
  }

  @Override
  public void close() {
    gc.close();
  }
}
