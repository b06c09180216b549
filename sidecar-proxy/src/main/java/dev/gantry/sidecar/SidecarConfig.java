package dev.gantry.sidecar;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.sidecar.cluster.ClusterSettings;
import dev.gantry.sidecar.routing.EndpointSpec;
import dev.gantry.sidecar.routing.EndpointSpecParser;
import dev.gantry.sidecar.routing.SpecProblem;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The sidecar's settings. Each comes from, in rising precedence: its default, the {@code sidecar:}
 * section of the YAML file named by {@code --config} (or {@code GANTRY_CONFIG}), its environment
 * variable, its flag.
 */
public record SidecarConfig(String host, int port, String runnerHost, int runnerPort, Optional<String> defaultModel,
    int maxBodyBytes, long requestTimeoutMs, int maxInFlight, long healthIntervalMs, int eventLoops,
    long shutdownGraceMs, long runnerKeepaliveMs, List<String> forwardHeaders, ClusterSettings cluster,
    String adminHost, int adminPort, Optional<String> adminToken, List<EndpointSpec> endpoints) {

  /** Shortest admin token taken: a guessable token protects nothing. */
  static final int MIN_TOKEN_LENGTH = 16;

  public SidecarConfig {
    forwardHeaders = List.copyOf(forwardHeaders);
    requireNonNull(cluster, "cluster");
    requireNonNull(adminHost, "adminHost");
    requireNonNull(adminToken, "adminToken");
    endpoints = List.copyOf(endpoints);
  }

  /** key → {flag, env, default, help}. */
  private static final Map<String, String[]> KEYS = new LinkedHashMap<>();

  static {
    KEYS.put("host", new String[] {"GANTRY_SIDECAR_HOST", "0.0.0.0", "address to listen on"});
    KEYS.put("port", new String[] {"GANTRY_SIDECAR_PORT", "8080", "REST and gRPC port (HTTP/1.1 and h2c)"});
    KEYS.put("runner_host", new String[] {"GANTRY_RUNNER_HOST", "127.0.0.1", "model-runner address"});
    KEYS.put("runner_port", new String[] {"GANTRY_RUNNER_PORT", "8001", "model-runner gRPC port"});
    KEYS.put("default_model", new String[] {"GANTRY_DEFAULT_MODEL", "",
        "model for endpoints without one in the path (/invocations, /api/v1.0/predictions)"});
    KEYS.put("max_body_bytes", new String[] {"GANTRY_MAX_BODY_BYTES", "10485760",
        "largest request body (413 / RESOURCE_EXHAUSTED beyond)"});
    KEYS.put("request_timeout_ms", new String[] {"GANTRY_REQUEST_TIMEOUT_MS", "30000",
        "per-request timeout (504 / DEADLINE_EXCEEDED); a shorter gRPC deadline wins"});
    KEYS.put("max_in_flight", new String[] {"GANTRY_MAX_IN_FLIGHT", "1024",
        "requests in flight before new ones are refused (429 / RESOURCE_EXHAUSTED)"});
    KEYS.put("health_interval_ms", new String[] {"GANTRY_HEALTH_INTERVAL_MS", "1000", "runner probe period"});
    KEYS.put("event_loops", new String[] {"GANTRY_EVENT_LOOPS", "0", "HTTP server instances; 0 = one per core"});
    KEYS.put("shutdown_grace_ms", new String[] {"GANTRY_SHUTDOWN_GRACE_MS", "20000",
        "on SIGTERM: not ready at once, then in-flight requests may finish for this long before exit"});
    KEYS.put("runner_keepalive_ms", new String[] {"GANTRY_RUNNER_KEEPALIVE_MS", "5000",
        "HTTP/2 PING period to the runner; a PING unanswered for this long closes the connection"});
    KEYS.put("forward_headers", new String[] {"GANTRY_FORWARD_HEADERS", "",
        "comma-separated extra headers / gRPC metadata keys passed on to the runner (besides trace context"
            + " and x-request-id)"});
    KEYS.put("admin_host", new String[] {"GANTRY_ADMIN_HOST", "0.0.0.0",
        "admin API address (loopback only while no admin token is set)"});
    KEYS.put("admin_port", new String[] {"GANTRY_ADMIN_PORT", "8081", "admin API port"});
    KEYS.put("admin_token", new String[] {"GANTRY_ADMIN_TOKEN", "",
        "bearer token the admin API requires (at least " + MIN_TOKEN_LENGTH + " characters)"});
    KEYS.put("admin_token_file", new String[] {"GANTRY_ADMIN_TOKEN_FILE", "",
        "file holding the admin token (e.g. a mounted Kubernetes Secret); used when admin_token is not set"});
    KEYS.put("cluster", new String[] {"GANTRY_CLUSTER", "embedded",
        "embedded: share state with the other sidecars through an embedded Hazelcast member; off: this sidecar alone"});
    KEYS.put("cluster_name", new String[] {"GANTRY_CLUSTER_NAME", "gantry",
        "cluster name; sidecars of one Deployment share one, others never join"});
    KEYS.put("cluster_host", new String[] {"GANTRY_CLUSTER_HOST", "127.0.0.1",
        "address the member binds and is reached at (in Kubernetes: the pod IP)"});
    KEYS.put("cluster_port", new String[] {"GANTRY_CLUSTER_PORT", "5701", "member port"});
    KEYS.put("cluster_members", new String[] {"GANTRY_CLUSTER_MEMBERS", "",
        "comma-separated host[:port] of members to join over TCP/IP (multicast is off)"});
    KEYS.put("cluster_kubernetes_dns", new String[] {"GANTRY_CLUSTER_KUBERNETES_DNS", "",
        "DNS name of a headless Service whose addresses are the members (instead of cluster_members)"});
  }

  static String usage() {
    StringBuilder sb = new StringBuilder("Usage: java -jar sidecar-proxy.jar [--config FILE] [options]\n");
    sb.append("  --config FILE            YAML file with a 'sidecar:' section (env GANTRY_CONFIG)\n");
    KEYS.forEach((k, v) -> sb.append(String.format("  --%-22s %s (env %s, default %s)%n", k.replace('_', '-')
        + " V", v[2], v[0], v[1].isEmpty() ? "none" : v[1])));
    return sb.toString();
  }

  /**
   * @throws IllegalArgumentException naming the setting, where it came from and the fix
   */
  public static SidecarConfig parse(String[] args, Map<String, String> env) {
    Map<String, String> values = new LinkedHashMap<>();
    Map<String, String> source = new LinkedHashMap<>();
    KEYS.forEach((k, v) -> {
      values.put(k, v[1]);
      source.put(k, "default");
    });
    String configFile = env.get("GANTRY_CONFIG");
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        configFile = args[i + 1];
      } else if (args[i].startsWith("--config=")) {
        configFile = args[i].substring("--config=".length());
      }
    }
    List<EndpointSpec> endpoints = new ArrayList<>();
    if (configFile != null && !configFile.isBlank()) {
      readYaml(Path.of(configFile), values, source, endpoints);
    }
    KEYS.forEach((k, v) -> {
      if (env.containsKey(v[0])) {
        values.put(k, env.get(v[0]));
        source.put(k, "environment variable " + v[0]);
      }
    });
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + arg + "'\n" + usage());
      }
      String name = arg.substring(2);
      String value;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        throw new IllegalArgumentException("flag --" + name + " needs a value\n" + usage());
      }
      if (name.equals("config")) {
        continue;
      }
      String key = name.replace('-', '_');
      if (!KEYS.containsKey(key)) {
        throw new IllegalArgumentException("unknown flag --" + name + "\n" + usage());
      }
      values.put(key, value);
      source.put(key, "flag --" + name);
    }
    return new SidecarConfig(values.get("host"), number(values, source, "port", 0, 65535),
        values.get("runner_host"), number(values, source, "runner_port", 1, 65535),
        values.get("default_model").isBlank() ? Optional.empty() : Optional.of(values.get("default_model").trim()),
        number(values, source, "max_body_bytes", 1, Integer.MAX_VALUE),
        number(values, source, "request_timeout_ms", 1, Integer.MAX_VALUE),
        number(values, source, "max_in_flight", 1, Integer.MAX_VALUE),
        number(values, source, "health_interval_ms", 50, Integer.MAX_VALUE),
        number(values, source, "event_loops", 0, 256),
        number(values, source, "shutdown_grace_ms", 0, Integer.MAX_VALUE),
        number(values, source, "runner_keepalive_ms", 100, Integer.MAX_VALUE),
        headerNames(values, source, "forward_headers"), cluster(values, source),
        values.get("admin_host").trim(), number(values, source, "admin_port", 0, 65535), adminToken(values, source),
        endpoints);
  }

  private static ClusterSettings cluster(Map<String, String> values, Map<String, String> source) {
    String mode = values.get("cluster").trim().toLowerCase(Locale.ROOT);
    if (!mode.equals("embedded") && !mode.equals("off")) {
      throw new IllegalArgumentException("cluster = '" + values.get("cluster") + "' (from " + source.get("cluster")
          + ") must be 'embedded' or 'off'");
    }
    String name = values.get("cluster_name").trim();
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")) {
      throw new IllegalArgumentException("cluster_name = '" + name + "' (from " + source.get("cluster_name")
          + ") must be 1-64 letters, digits, '-', '_' or '.'");
    }
    List<String> members = new ArrayList<>();
    for (String raw : values.get("cluster_members").split(",")) {
      String member = raw.trim();
      if (member.isEmpty()) {
        continue;
      }
      if (!member.matches("[A-Za-z0-9._\\[\\]:-]+")) {
        throw new IllegalArgumentException("cluster_members = '" + values.get("cluster_members") + "' (from "
            + source.get("cluster_members") + "): '" + member + "' is not host or host:port");
      }
      members.add(member);
    }
    String dns = values.get("cluster_kubernetes_dns").trim();
    return new ClusterSettings(mode.equals("embedded"), name, values.get("cluster_host").trim(),
        number(values, source, "cluster_port", 1, 65535), members, dns.isEmpty() ? Optional.empty() : Optional.of(dns));
  }

  private static Optional<String> adminToken(Map<String, String> values, Map<String, String> source) {
    String token = values.get("admin_token").trim();
    String from = source.get("admin_token");
    if (token.isEmpty() && !values.get("admin_token_file").isBlank()) {
      Path file = Path.of(values.get("admin_token_file").trim());
      try {
        token = Files.readString(file).trim();
      } catch (IOException e) {
        throw new IllegalArgumentException("admin_token_file = '" + file + "' (from " + source.get("admin_token_file")
            + ") cannot be read: " + e.getMessage());
      }
      from = "file " + file;
    }
    if (token.isEmpty()) {
      return Optional.empty();
    }
    if (token.length() < MIN_TOKEN_LENGTH || token.chars().anyMatch(c -> c <= ' ' || c > '~')) {
      throw new IllegalArgumentException("the admin token (from " + from + ") must be at least " + MIN_TOKEN_LENGTH
          + " visible ASCII characters; fix: e.g. GANTRY_ADMIN_TOKEN=$(openssl rand -hex 24)");
    }
    return Optional.of(token);
  }

  private static void readYaml(Path file, Map<String, String> values, Map<String, String> source,
      List<EndpointSpec> endpoints) {
    JsonNode root;
    try {
      root = new YAMLMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read YAML: " + e.getMessage()
          + "; fix: check the path given to --config / GANTRY_CONFIG and the YAML syntax");
    }
    JsonNode section = root == null ? null : root.get("sidecar");
    if (section == null) {
      return;
    }
    if (!section.isObject()) {
      throw new IllegalArgumentException(file + ": 'sidecar' must be a mapping of settings");
    }
    for (Map.Entry<String, JsonNode> e : section.properties()) {
      if (e.getKey().equals("endpoints")) {
        endpoints.addAll(endpointSpecs(file, e.getValue()));
        continue;
      }
      if (!KEYS.containsKey(e.getKey())) {
        throw new IllegalArgumentException(file + ": 'sidecar." + e.getKey() + "' is not a known setting; fix: use"
            + " one of " + KEYS.keySet());
      }
      JsonNode value = e.getValue();
      // a YAML list (forward_headers: [x-tenant, x-user]) is the same as its comma-separated form
      values.put(e.getKey(), value.isArray() ? String.join(",", java.util.stream.StreamSupport.stream(
          value.spliterator(), false).map(JsonNode::asText).toList()) : value.asText());
      source.put(e.getKey(), file + " 'sidecar." + e.getKey() + "'");
    }
  }

  /** {@code sidecar.endpoints}: a list of endpoint specs, each checked now so that a bad one stops the start. */
  private static List<EndpointSpec> endpointSpecs(Path file, JsonNode list) {
    if (!list.isArray()) {
      throw new IllegalArgumentException(file + ": 'sidecar.endpoints' must be a list of endpoint specs");
    }
    EndpointSpecParser parser = new EndpointSpecParser();
    List<EndpointSpec> specs = new ArrayList<>();
    java.util.Set<String> names = new java.util.HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      String where = file + ": 'sidecar.endpoints[" + i + "]'";
      EndpointSpec spec;
      try {
        spec = parser.json(list.get(i).toString());
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(where + ": " + e.getMessage());
      }
      List<SpecProblem> problems = spec.problems();
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException(where + ": " + String.join("; ", problems.stream()
            .map(SpecProblem::toString).toList()));
      }
      if (!names.add(spec.name())) {
        throw new IllegalArgumentException(where + ": endpoint '" + spec.name() + "' is declared twice");
      }
      specs.add(spec);
    }
    return specs;
  }

  private static int number(Map<String, String> values, Map<String, String> source, String key, int min, int max) {
    String raw = values.get(key).trim();
    try {
      long v = Long.parseLong(raw);
      if (v >= min && v <= max) {
        return (int) v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(key.toUpperCase(Locale.ROOT).charAt(0) + key.substring(1) + " = '" + raw
        + "' (from " + source.get(key) + ") must be a whole number from " + min + " to " + max);
  }

  private static List<String> headerNames(Map<String, String> values, Map<String, String> source, String key) {
    List<String> names = new ArrayList<>();
    for (String raw : values.get(key).split(",")) {
      String name = raw.trim().toLowerCase(Locale.ROOT);
      if (name.isEmpty()) {
        continue;
      }
      if (!name.matches("[a-z0-9][a-z0-9_.-]*") || name.startsWith("grpc-") || name.length() > 64) {
        throw new IllegalArgumentException(key + " = '" + values.get(key) + "' (from " + source.get(key)
            + "): '" + raw.trim() + "' is not a header name that can be passed on; fix: list lower-case header names"
            + " (letters, digits, '-', '_', '.'), not grpc-*, separated by commas");
      }
      names.add(name);
    }
    return names;
  }

  /** This configuration with other limits (tests). */
  public SidecarConfig withLimits(int maxBodyBytes, long requestTimeoutMs, int maxInFlight) {
    return new SidecarConfig(host, port, runnerHost, runnerPort, defaultModel, maxBodyBytes, requestTimeoutMs,
        maxInFlight, healthIntervalMs, eventLoops, shutdownGraceMs, runnerKeepaliveMs, forwardHeaders, cluster,
        adminHost, adminPort, adminToken, endpoints);
  }

  /** This configuration passing the given headers on to the runner. */
  public SidecarConfig withForwardHeaders(List<String> names) {
    return new SidecarConfig(host, port, runnerHost, runnerPort, defaultModel, maxBodyBytes, requestTimeoutMs,
        maxInFlight, healthIntervalMs, eventLoops, shutdownGraceMs, runnerKeepaliveMs, names, cluster, adminHost,
        adminPort, adminToken, endpoints);
  }

  /** This configuration with another keep-alive period (tests). */
  public SidecarConfig withRunnerKeepaliveMs(long ms) {
    return new SidecarConfig(host, port, runnerHost, runnerPort, defaultModel, maxBodyBytes, requestTimeoutMs,
        maxInFlight, healthIntervalMs, eventLoops, shutdownGraceMs, ms, forwardHeaders, cluster, adminHost, adminPort,
        adminToken, endpoints);
  }

  /** This configuration sharing state as {@code settings} say (tests). */
  public SidecarConfig withCluster(ClusterSettings settings) {
    return new SidecarConfig(host, port, runnerHost, runnerPort, defaultModel, maxBodyBytes, requestTimeoutMs,
        maxInFlight, healthIntervalMs, eventLoops, shutdownGraceMs, runnerKeepaliveMs, forwardHeaders, settings,
        adminHost, adminPort, adminToken, endpoints);
  }

  /** This configuration with an admin token and these declared endpoints (tests). */
  public SidecarConfig withAdmin(Optional<String> token, List<EndpointSpec> declared) {
    return new SidecarConfig(host, port, runnerHost, runnerPort, defaultModel, maxBodyBytes, requestTimeoutMs,
        maxInFlight, healthIntervalMs, eventLoops, shutdownGraceMs, runnerKeepaliveMs, forwardHeaders, cluster,
        adminHost, adminPort, token, declared);
  }

  /** Defaults for tests: an ephemeral port on loopback in front of the given runner. */
  public static SidecarConfig forRunner(int runnerPort, String defaultModel) {
    return new SidecarConfig("127.0.0.1", 0, "127.0.0.1", runnerPort, Optional.ofNullable(defaultModel),
        10 << 20, 30_000, 1024, 200, 1, 20_000, 5_000, List.of(), ClusterSettings.off(), "127.0.0.1", 0,
        Optional.empty(), List.of());
  }
}
