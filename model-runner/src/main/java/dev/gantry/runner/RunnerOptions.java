package dev.gantry.runner;

import static java.util.Objects.requireNonNull;

import dev.gantry.runner.repository.DeviceSpec;
import dev.gantry.runner.source.SourceSpec;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The runner's settings, from flags or environment variables (a flag wins over its variable).
 *
 * @param modelRepository the model repository directory; empty when models come only from URIs
 * @param host the address the gRPC and metrics servers bind to
 * @param grpcPort gRPC port (0 picks a free one)
 * @param metricsPort Prometheus metrics port (0 picks a free one)
 * @param models models to load at start; empty loads every model in the repository
 * @param device when present, overrides every model's device
 * @param maxMessageBytes largest gRPC message accepted
 * @param engineThreads threads each engine call may use inside the engine (intra-op); 0 leaves the
 *     engines' defaults
 * @param shutdownGraceMs on SIGTERM, how long in-flight and queued requests may take to finish
 *     before the process exits anyway
 * @param sources models named by URI ({@code --model-uri}, {@code runner.sources})
 * @param modelCache where models fetched from URIs are kept
 * @param metricsHost the address the metrics server binds to (in a pod: all addresses, so that Prometheus can
 *     scrape it while gRPC stays on loopback)
 * @param workerSpinMicros how long a model instance's worker that finds its queue empty spins before it parks
 *     (a request that comes meanwhile is taken without a thread wake-up); 0 parks at once
 * @param nativeTransport whether the event loops use Netty's native epoll transport where it is available (Linux
 *     x86-64), falling back to Java NIO elsewhere
 * @param grpcSocket when present, gRPC is also served on a Unix domain socket at this path (needs the native
 *     transport, which it turns on)
 */
public record RunnerOptions(Optional<Path> modelRepository, String host, int grpcPort, int metricsPort,
    List<String> models, Optional<DeviceSpec> device, int maxMessageBytes, int engineThreads, int shutdownGraceMs,
    List<SourceSpec> sources, Path modelCache, String metricsHost, int workerSpinMicros, boolean nativeTransport,
    Optional<Path> grpcSocket) {

  /** What {@code --help} prints: every setting with its environment variable and default. */
  static String usage() {
    return RunnerCommandLine.usage();
  }

  /** Default of {@code --shutdown-grace-ms}. */
  public static final int DEFAULT_SHUTDOWN_GRACE_MS = 20_000;
  /** Default of {@code --worker-spin-us}. */
  public static final int DEFAULT_WORKER_SPIN_US = 0;
  /** Largest {@code --worker-spin-us}: a spin is meant to bridge a round trip, not to replace parking. */
  public static final int MAX_WORKER_SPIN_US = 1000;

  public RunnerOptions {
    requireNonNull(modelRepository, "modelRepository");
    requireNonNull(host, "host");
    models = List.copyOf(models);
    requireNonNull(device, "device");
    requireNonNull(modelRepository, "modelRepository");
    sources = List.copyOf(sources);
    requireNonNull(modelCache, "modelCache");
    requireNonNull(metricsHost, "metricsHost");
    requireNonNull(grpcSocket, "grpcSocket");
    if (workerSpinMicros < 0 || workerSpinMicros > MAX_WORKER_SPIN_US) {
      throw new IllegalArgumentException("workerSpinMicros must be from 0 to " + MAX_WORKER_SPIN_US + ", got "
          + workerSpinMicros);
    }
  }

  /** Defaults for tests: ephemeral ports on loopback. */
  public static RunnerOptions forRepository(Path repository, String... models) {
    return new RunnerOptions(Optional.of(repository), "127.0.0.1", 0, 0, Arrays.asList(models), Optional.empty(),
        64 << 20, 1, DEFAULT_SHUTDOWN_GRACE_MS, List.of(), defaultCache(Map.of()), "127.0.0.1", DEFAULT_WORKER_SPIN_US,
        true, Optional.empty());
  }

  /** The same options serving these models by URI, kept in this cache. */
  public RunnerOptions withSources(List<SourceSpec> newSources, Path cache) {
    return new RunnerOptions(modelRepository, host, grpcPort, metricsPort, models, device, maxMessageBytes,
        engineThreads, shutdownGraceMs, newSources, cache, metricsHost, workerSpinMicros, nativeTransport,
        grpcSocket);
  }

  /** The same options without a model repository directory. */
  public RunnerOptions withoutRepository() {
    return new RunnerOptions(Optional.empty(), host, grpcPort, metricsPort, models, device, maxMessageBytes,
        engineThreads, shutdownGraceMs, sources, modelCache, metricsHost, workerSpinMicros, nativeTransport,
        grpcSocket);
  }

  /** The same options, also serving gRPC on a Unix domain socket at {@code socket}. */
  public RunnerOptions withGrpcSocket(Path socket) {
    return new RunnerOptions(modelRepository, host, grpcPort, metricsPort, models, device, maxMessageBytes,
        engineThreads, shutdownGraceMs, sources, modelCache, metricsHost, workerSpinMicros, nativeTransport,
        Optional.of(socket));
  }

  static Path defaultCache(Map<String, String> env) {
    String xdg = env.get("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("gantry").resolve("models");
  }

  /**
   * Parses flags over environment variables over the YAML file ({@code --config} / {@code GANTRY_CONFIG}).
   *
   * @throws IllegalArgumentException with a message naming the flag and the fix
   */
  public static RunnerOptions parse(String[] args, Map<String, String> env) {
    return RunnerCommandLine.parse(args, env);
  }
}
