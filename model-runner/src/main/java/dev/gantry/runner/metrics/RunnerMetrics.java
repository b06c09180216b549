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

  /** Meters of one model version; its queue-depth gauge reads {@code queueDepth}. */
  public VersionMetrics version(String model, String version, IntSupplier queueDepth) {
    AtomicReference<IntSupplier> source = queueDepths.computeIfAbsent(model + "\u0000" + version, k -> {
      AtomicReference<IntSupplier> ref = new AtomicReference<>(() -> 0);
      Gauge.builder(PREFIX + "queue.depth", ref, r -> r.get().getAsInt())
          .description("Requests waiting in the batcher queue")
          .tags("model", model, "version", version)
          .strongReference(true)
          .register(registry);
      return ref;
    });
    source.set(queueDepth);
    return new VersionMetrics(registry, model, version, source, queueDepth);
  }

  /** Records how long a model version took to load and warm up. */
  public void loaded(String model, String version, Duration loadTime) {
    AtomicLong nanos = new AtomicLong(loadTime.toNanos());
    Gauge.builder(PREFIX + "model.load.duration", nanos, n -> n.get() / 1e9)
        .description("Time the model version took to load and warm up")
        .baseUnit("seconds")
        .tags("model", model, "version", version)
        .strongReference(true)
        .register(registry);
  }

  @Override
  public void close() {
    gc.close();
  }
}
