package dev.gantry.sidecar;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.cluster.ClusterSettings;
import dev.gantry.sidecar.routing.EndpointSpec;
import dev.gantry.sidecar.experiment.ExperimentSpec;
import dev.gantry.sidecar.shadow.ShadowSpec;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The sidecar's settings, checked. Each comes from, in rising precedence: its default, the {@code sidecar:}
 * section of the YAML file named by {@code --config} (or {@code GANTRY_CONFIG}), its environment
 * variable, its flag; {@link SidecarOptions} declares them.
 */
public record SidecarConfig(String host, int port, String runnerHost, int runnerPort, Optional<String> defaultModel,
    int maxBodyBytes, long requestTimeoutMs, int maxInFlight, long healthIntervalMs, int eventLoops,
    long shutdownGraceMs, long runnerKeepaliveMs, List<String> forwardHeaders, ClusterSettings cluster,
    String adminHost, int adminPort, Optional<String> adminToken, List<EndpointSpec> endpoints,
    List<ShadowSpec> shadows, List<ExperimentSpec> experiments,
    List<dev.gantry.sidecar.rollout.RolloutSpec> rollouts, long warmupMs, Optional<String> runnerSocket) {

  /** Shortest admin token taken: a guessable token protects nothing. */
  static final int MIN_TOKEN_LENGTH = 16;

  public SidecarConfig {
    forwardHeaders = List.copyOf(forwardHeaders);
    requireNonNull(cluster, "cluster");
    requireNonNull(adminHost, "adminHost");
    requireNonNull(adminToken, "adminToken");
    endpoints = List.copyOf(endpoints);
    shadows = List.copyOf(shadows);
    experiments = List.copyOf(experiments);
    rollouts = List.copyOf(rollouts);
    requireNonNull(runnerSocket, "runnerSocket");
  }

  /** The settings' help, as {@code --help} prints it. */
  static String usage() {
    return SidecarOptions.usage();
  }

  /**
   * The settings from flags, environment, the YAML file and defaults (in that precedence).
   *
   * @throws IllegalArgumentException naming the setting, where it came from and the fix
   */
  public static SidecarConfig parse(String[] args, Map<String, String> env) {
    return SidecarOptions.parse(args, env);
  }

  /** This configuration with other limits (tests). */
  public SidecarConfig withLimits(int maxBodyBytes, long requestTimeoutMs, int maxInFlight) {
    return new SidecarConfig(host, port, runnerHost, runnerPort, defaultModel, maxBodyBytes, requestTimeoutMs,
        maxInFlight, healthIntervalMs, eventLoops, shutdownGraceMs, runnerKeepaliveMs, forwardHeaders, cluster,
        adminHost, adminPort, adminToken, endpoints, shadows, experiments, rollouts, warmupMs, runnerSocket);
  }

  /** This configuration passing the given headers on to the runner. */
  public SidecarConfig withForwardHeaders(List<String> names) {
    return new SidecarConfig(host, port, runnerHost, runnerPort, defaultModel, maxBodyBytes, requestTimeoutMs,
        maxInFlight, healthIntervalMs, eventLoops, shutdownGraceMs, runnerKeepaliveMs, names, cluster, adminHost,
        adminPort, adminToken, endpoints, shadows, experiments, rollouts, warmupMs, runnerSocket);
  }

  /** This configuration with another keep-alive period (tests). */
  public SidecarConfig withRunnerKeepaliveMs(long ms) {
    return new SidecarConfig(host, port, runnerHost, runnerPort, defaultModel, maxBodyBytes, requestTimeoutMs,
        maxInFlight, healthIntervalMs, eventLoops, shutdownGraceMs, ms, forwardHeaders, cluster, adminHost, adminPort,
        adminToken, endpoints, shadows, experiments, rollouts, warmupMs, runnerSocket);
  }

  /** This configuration sharing state as {@code settings} say (tests). */
  public SidecarConfig withCluster(ClusterSettings settings) {
    return new SidecarConfig(host, port, runnerHost, runnerPort, defaultModel, maxBodyBytes, requestTimeoutMs,
        maxInFlight, healthIntervalMs, eventLoops, shutdownGraceMs, runnerKeepaliveMs, forwardHeaders, settings,
        adminHost, adminPort, adminToken, endpoints, shadows, experiments, rollouts, warmupMs, runnerSocket);
  }

  /** This configuration with an admin token and these declared endpoints (tests). */
  public SidecarConfig withAdmin(Optional<String> token, List<EndpointSpec> declared) {
    return new SidecarConfig(host, port, runnerHost, runnerPort, defaultModel, maxBodyBytes, requestTimeoutMs,
        maxInFlight, healthIntervalMs, eventLoops, shutdownGraceMs, runnerKeepaliveMs, forwardHeaders, cluster,
        adminHost, adminPort, token, declared, shadows, experiments, rollouts, warmupMs, runnerSocket);
  }

  /** This configuration reaching the runner on a Unix domain socket instead of TCP. */
  public SidecarConfig withRunnerSocket(String socket) {
    return new SidecarConfig(host, port, runnerHost, runnerPort, defaultModel, maxBodyBytes, requestTimeoutMs,
        maxInFlight, healthIntervalMs, eventLoops, shutdownGraceMs, runnerKeepaliveMs, forwardHeaders, cluster,
        adminHost, adminPort, adminToken, endpoints, shadows, experiments, rollouts, warmupMs, Optional.of(socket));
  }

  /** This configuration with a warm-up budget before readiness (0: none). */
  public SidecarConfig withWarmupMs(long ms) {
    return new SidecarConfig(host, port, runnerHost, runnerPort, defaultModel, maxBodyBytes, requestTimeoutMs,
        maxInFlight, healthIntervalMs, eventLoops, shutdownGraceMs, runnerKeepaliveMs, forwardHeaders, cluster,
        adminHost, adminPort, adminToken, endpoints, shadows, experiments, rollouts, ms,
        runnerSocket);
  }

  /** Defaults for tests (no warm-up): an ephemeral port on loopback in front of the given runner. */
  public static SidecarConfig forRunner(int runnerPort, String defaultModel) {
    return new SidecarConfig("127.0.0.1", 0, "127.0.0.1", runnerPort, Optional.ofNullable(defaultModel),
        10 << 20, 30_000, 1024, 200, 1, 20_000, 5_000, List.of(), ClusterSettings.off(), "127.0.0.1", 0,
        Optional.empty(), List.of(), List.of(), List.of(), List.of(), 0, Optional.empty());
  }

  /** This configuration with these declared rollouts (tests). */
  public SidecarConfig withRollouts(List<dev.gantry.sidecar.rollout.RolloutSpec> declared) {
    return new SidecarConfig(host, port, runnerHost, runnerPort, defaultModel, maxBodyBytes, requestTimeoutMs,
        maxInFlight, healthIntervalMs, eventLoops, shutdownGraceMs, runnerKeepaliveMs, forwardHeaders, cluster,
        adminHost, adminPort, adminToken, endpoints, shadows, experiments, declared, warmupMs, runnerSocket);
  }

  /** This configuration with these declared shadows (tests). */
  public SidecarConfig withShadows(List<ShadowSpec> declared) {
    return new SidecarConfig(host, port, runnerHost, runnerPort, defaultModel, maxBodyBytes, requestTimeoutMs,
        maxInFlight, healthIntervalMs, eventLoops, shutdownGraceMs, runnerKeepaliveMs, forwardHeaders, cluster,
        adminHost, adminPort, adminToken, endpoints, declared, experiments, rollouts, warmupMs, runnerSocket);
  }
}
