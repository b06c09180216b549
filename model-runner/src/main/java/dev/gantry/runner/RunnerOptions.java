package dev.gantry.runner;

import static java.util.Objects.requireNonNull;

import dev.gantry.runner.repository.DeviceSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The runner's settings, from flags or environment variables (a flag wins over its variable).
 *
 * @param modelRepository the model repository directory
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
 */
public record RunnerOptions(Path modelRepository, String host, int grpcPort, int metricsPort, List<String> models,
    Optional<DeviceSpec> device, int maxMessageBytes, int engineThreads, int shutdownGraceMs) {

  static final String USAGE = String.join("\n",
      "Usage: java -Dai.djl.offline=true -jar model-runner.jar [--config FILE] [options]",
      "  --config FILE            YAML file with a 'runner:' section (env GANTRY_CONFIG); flags and env win",
      "  --model-repository DIR   model repository (env GANTRY_MODEL_REPOSITORY, default examples/models)",
      "  --host ADDR              bind address (env GANTRY_HOST, default 127.0.0.1)",
      "  --grpc-port N            Open Inference gRPC port (env GANTRY_GRPC_PORT, default 8001)",
      "  --metrics-port N         Prometheus /metrics port (env GANTRY_METRICS_PORT, default 8002)",
      "  --models a,b             models to load at start (env GANTRY_MODELS, default all)",
      "  --device cpu|gpu|gpu:N   run every model there (env GANTRY_DEVICE, default: each config's)",
      "  --max-message-bytes N    largest gRPC message (env GANTRY_MAX_MESSAGE_BYTES, default 67108864)",
      "  --engine-threads N       threads per engine call (env GANTRY_ENGINE_THREADS, default 1; 0 = engine's own)",
      "  --shutdown-grace-ms N    on SIGTERM, time in-flight requests get to finish (env GANTRY_SHUTDOWN_GRACE_MS,",
      "                           default 20000)",
      "  --help                   this text");

  /** Default of {@code --shutdown-grace-ms}. */
  public static final int DEFAULT_SHUTDOWN_GRACE_MS = 20_000;

  public RunnerOptions {
    requireNonNull(modelRepository, "modelRepository");
    requireNonNull(host, "host");
    models = List.copyOf(models);
    requireNonNull(device, "device");
  }

  /** Defaults for tests: ephemeral ports on loopback. */
  public static RunnerOptions forRepository(Path repository, String... models) {
    return new RunnerOptions(repository, "127.0.0.1", 0, 0, Arrays.asList(models), Optional.empty(), 64 << 20, 1,
        DEFAULT_SHUTDOWN_GRACE_MS);
  }

  /**
   * Parses flags over environment variables.
   *
   * @throws IllegalArgumentException with a message naming the flag and the fix
   */
  public static RunnerOptions parse(String[] args, Map<String, String> env) {
    java.util.HashMap<String, String> values = new java.util.HashMap<>();
    values.put("model-repository", env.getOrDefault("GANTRY_MODEL_REPOSITORY", "examples/models"));
    values.put("host", env.getOrDefault("GANTRY_HOST", "127.0.0.1"));
    values.put("grpc-port", env.getOrDefault("GANTRY_GRPC_PORT", "8001"));
    values.put("metrics-port", env.getOrDefault("GANTRY_METRICS_PORT", "8002"));
    values.put("models", env.getOrDefault("GANTRY_MODELS", ""));
    values.put("device", env.getOrDefault("GANTRY_DEVICE", ""));
    values.put("max-message-bytes", env.getOrDefault("GANTRY_MAX_MESSAGE_BYTES", Integer.toString(64 << 20)));
    values.put("engine-threads", env.getOrDefault("GANTRY_ENGINE_THREADS", "1"));
    values.put("shutdown-grace-ms", env.getOrDefault("GANTRY_SHUTDOWN_GRACE_MS",
        Integer.toString(DEFAULT_SHUTDOWN_GRACE_MS)));
    String configFile = env.get("GANTRY_CONFIG");
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals("--config")) {
        configFile = args[i + 1];
      }
    }
    if (configFile != null && !configFile.isBlank()) {
      fromYaml(Path.of(configFile), values, env);
    }
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + arg + "'\n" + USAGE);
      }
      String key = arg.substring(2);
      String value;
      int eq = key.indexOf('=');
      if (eq >= 0) {
        value = key.substring(eq + 1);
        key = key.substring(0, eq);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        throw new IllegalArgumentException("flag --" + key + " needs a value\n" + USAGE);
      }
      if (key.equals("config")) {
        continue;
      }
      if (!values.containsKey(key)) {
        throw new IllegalArgumentException("unknown flag --" + key + "\n" + USAGE);
      }
      values.put(key, value);
    }
    List<String> models = new ArrayList<>();
    for (String m : values.get("models").split(",")) {
      if (!m.isBlank()) {
        models.add(m.trim());
      }
    }
    Optional<DeviceSpec> device = Optional.empty();
    if (!values.get("device").isBlank()) {
      device = Optional.of(DeviceSpec.parse(values.get("device")).orElseThrow(() -> new IllegalArgumentException(
          "--device '" + values.get("device") + "' is not cpu, gpu or gpu:N")));
    }
    return new RunnerOptions(Path.of(values.get("model-repository")), values.get("host"),
        port(values, "grpc-port"), port(values, "metrics-port"), models, device,
        positive(values, "max-message-bytes"), nonNegative(values, "engine-threads"),
        nonNegative(values, "shutdown-grace-ms"));
  }

  /** Settings from the file's {@code runner:} section, unless an environment variable set them. */
  private static void fromYaml(Path file, Map<String, String> values, Map<String, String> env) {
    com.fasterxml.jackson.databind.JsonNode root;
    try {
      root = new com.fasterxml.jackson.dataformat.yaml.YAMLMapper().readTree(file.toFile());
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException(file + ": cannot read YAML: " + e.getMessage()
          + "; fix: check the path given to --config / GANTRY_CONFIG and the YAML syntax");
    }
    com.fasterxml.jackson.databind.JsonNode section = root == null ? null : root.get("runner");
    if (section == null) {
      return;
    }
    for (Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> e : section.properties()) {
      String key = e.getKey().replace('_', '-');
      if (!values.containsKey(key)) {
        throw new IllegalArgumentException(file + ": 'runner." + e.getKey() + "' is not a known setting; fix: use"
            + " one of " + values.keySet().stream().map(k -> k.replace('-', '_')).sorted().toList());
      }
      String envName = "GANTRY_" + key.replace('-', '_').toUpperCase(java.util.Locale.ROOT);
      if (env.containsKey(envName)) {
        continue;
      }
      com.fasterxml.jackson.databind.JsonNode v = e.getValue();
      if (v.isArray()) {
        List<String> items = new ArrayList<>();
        v.forEach(item -> items.add(item.asText()));
        values.put(key, String.join(",", items));
      } else {
        values.put(key, v.asText());
      }
    }
  }

  private static int port(Map<String, String> values, String key) {
    int p = number(values, key);
    if (p < 0 || p > 65535) {
      throw new IllegalArgumentException("--" + key + " must be from 0 to 65535, got " + p);
    }
    return p;
  }

  private static int nonNegative(Map<String, String> values, String key) {
    int n = number(values, key);
    if (n < 0) {
      throw new IllegalArgumentException("--" + key + " must be 0 or more, got " + n);
    }
    return n;
  }

  private static int positive(Map<String, String> values, String key) {
    int n = number(values, key);
    if (n <= 0) {
      throw new IllegalArgumentException("--" + key + " must be positive, got " + n);
    }
    return n;
  }

  private static int number(Map<String, String> values, String key) {
    try {
      return Integer.parseInt(values.get(key).trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + key + " must be a number, got '" + values.get(key) + "'");
    }
  }
}
