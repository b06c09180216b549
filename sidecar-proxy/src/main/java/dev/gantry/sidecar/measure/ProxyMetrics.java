package dev.gantry.sidecar.measure;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.core.ErrorKind;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The sidecar's per-model metrics, labelled by model, version and protocol. Labels come only from
 * what the runner serves: a model or version is named once the runner has listed it or answered
 * for it; any other name a caller sends is labelled {@code unknown} (a version left out is
 * {@code ""}), so callers cannot grow the label set. An endpoint's name is a model label, and the variant that
 * served a request its {@code variant} label ({@code ""} for requests that called no endpoint): both come from
 * configured endpoints only.
 */
public final class ProxyMetrics {
  static final String UNKNOWN = "unknown";
  private static final Duration[] LATENCY_BUCKETS = {
      Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(2),
      Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
      Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
      Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30)};
  private static final double[] SIZE_BUCKETS = {64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
      16777216};

  private final MeterRegistry registry;
  private final java.util.function.Predicate<String> servedByRunner;
  private final java.util.function.BiPredicate<String, String> versionServedByRunner;
  private volatile java.util.function.Predicate<String> isEndpoint = name -> false;
  private final Set<String> knownModels = ConcurrentHashMap.newKeySet();
  private final Map<String, Set<String>> knownVersions = new ConcurrentHashMap<>();
  private final Map<String, Meters> meters = new ConcurrentHashMap<>();
  private final Map<String, Counter> errors = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> active = new ConcurrentHashMap<>();

  private record Meters(Counter predictions, Timer latency, DistributionSummary inputSize) {}

  /**
   * @param servedByRunner whether the runner is known to serve a model (its names are safe labels)
   * @param versionServedByRunner whether the runner is known to serve a version of a model
   */
  public ProxyMetrics(MeterRegistry registry, java.util.function.Predicate<String> servedByRunner,
      java.util.function.BiPredicate<String, String> versionServedByRunner) {
    this.registry = requireNonNull(registry, "registry");
    this.servedByRunner = requireNonNull(servedByRunner, "servedByRunner");
    this.versionServedByRunner = requireNonNull(versionServedByRunner, "versionServedByRunner");
  }

  /** Says which names are endpoints (labelled as they are, like the models the runner serves). */
  public void endpoints(java.util.function.Predicate<String> isEndpoint) {
    this.isEndpoint = requireNonNull(isEndpoint, "isEndpoint");
  }

  /** Opens the measurement of one prediction request of a protocol. */
  public Measurement open(String protocol) {
    return new Measurement(this, protocol, true);
  }

  /** A measurement that counts nothing: the sidecar's own warm-up requests. */
  public Measurement openUncounted(String protocol) {
    return new Measurement(this, protocol, false);
  }

  public MeterRegistry registry() {
    return registry;
  }

  private String model(String model) {
    return knownModels.contains(model) || servedByRunner.test(model) || isEndpoint.test(model) ? model : UNKNOWN;
  }

  private String version(String model, String version) {
    if (version.isEmpty()) {
      return version;
    }
    Set<String> known = knownVersions.get(model);
    return known != null && known.contains(version) || versionServedByRunner.test(model, version) ? version : UNKNOWN;
  }

  /**
   * A call entered the path; returns the gauge to decrement when it leaves. The version label is
   * the one asked for ("" for the newest), since the answering version is not known yet.
   */
  AtomicInteger enter(String model, String version, String protocol) {
    String m = model(model);
    String v = version(model, version);
    AtomicInteger gauge = active.computeIfAbsent(m + "\u0000" + v + "\u0000" + protocol, k -> {
      AtomicInteger value = new AtomicInteger();
      Gauge.builder("model.active.requests", value, AtomicInteger::get)
          .description("Inference requests in flight through the sidecar")
          .tags("model", m, "version", v, "protocol", protocol)
          .register(registry);
      return value;
    });
    gauge.incrementAndGet();
    return gauge;
  }

  /** A call succeeded; {@code version} is the version that answered. */
  void succeeded(String model, String version, String protocol, String variant, long nanos, long inputBytes) {
    knownModels.add(model);
    knownVersions.computeIfAbsent(model, m -> ConcurrentHashMap.newKeySet()).add(version);
    Meters m = meters(model, version, protocol, variant);
    m.predictions().increment();
    m.latency().record(nanos, TimeUnit.NANOSECONDS);
    m.inputSize().record(inputBytes);
  }

  /** A call failed. */
  void failed(String model, String version, String protocol, String variant, long nanos, long inputBytes,
      ErrorKind kind) {
    String m = model(model);
    String v = version(model, version);
    Meters meters = meters(m, v, protocol, variant);
    meters.latency().record(nanos, TimeUnit.NANOSECONDS);
    meters.inputSize().record(inputBytes);
    errors.computeIfAbsent(m + "\u0000" + v + "\u0000" + protocol + "\u0000" + variant + "\u0000" + kind, k ->
        Counter.builder("model.prediction.errors")
            .description("Inference requests that failed, by error type")
            .tags("model", m, "version", v, "protocol", protocol, "variant", variant,
                "error_type", kind.name().toLowerCase(Locale.ROOT))
            .register(registry)).increment();
  }

  private Meters meters(String model, String version, String protocol, String variant) {
    return meters.computeIfAbsent(model + "\u0000" + version + "\u0000" + protocol + "\u0000" + variant,
        k -> new Meters(
        Counter.builder("model.predictions").description("Inference requests answered successfully")
            .tags("model", model, "version", version, "protocol", protocol, "variant", variant).register(registry),
        Timer.builder("model.prediction.latency").description("Time from request to answer in the sidecar")
            .tags("model", model, "version", version, "protocol", protocol, "variant", variant)
            .serviceLevelObjectives(LATENCY_BUCKETS).register(registry),
        DistributionSummary.builder("model.input.size").description("Size of request payloads").baseUnit("bytes")
            .tags("model", model, "version", version, "protocol", protocol, "variant", variant)
            .serviceLevelObjectives(SIZE_BUCKETS).register(registry)));
  }
}
