package dev.gantry.runner;

import static java.util.Objects.requireNonNull;

import dev.gantry.runner.repository.DeviceSpec;
import dev.gantry.runner.source.ModelUri;
import dev.gantry.runner.source.SourceSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
 */
public record RunnerOptions(Optional<Path> modelRepository, String host, int grpcPort, int metricsPort,
    List<String> models, Optional<DeviceSpec> device, int maxMessageBytes, int engineThreads, int shutdownGraceMs,
    List<SourceSpec> sources, Path modelCache, String metricsHost) {

  static final String USAGE = String.join("\n",
      "Usage: java -Dai.djl.offline=true -jar model-runner.jar [--config FILE] [options]",
      "  --config FILE            YAML file with a 'runner:' section (env GANTRY_CONFIG); flags and env win",
      "  --model-repository DIR   model repository (env GANTRY_MODEL_REPOSITORY, default examples/models, or none",
      "                           when a model URI is given)",
      "  --model-uri URI          serve the model at this URI: models:/<name>/<version|stage|latest>,",
      "                           models:/<name>@<alias>, runs:/<run_id>/<path>, mlflow-artifacts:/<path>, s3://<bucket>/<path>",
      "                           or an MLflow model directory (env GANTRY_MODEL_URI; more in the config's runner.sources)",
      "  --model-name NAME        the name it is served under (env GANTRY_MODEL_NAME, default the registered model's",
      "                           name or the last path segment)",
      "  --watch DURATION         ask the registry again at this period (30s, 5m) and move to the version a stage,",
      "                           alias or latest names (env GANTRY_MODEL_WATCH, default: never)",
      "  --model-cache DIR        where fetched models are kept (env GANTRY_MODEL_CACHE, default ~/.cache/gantry/models)",
      "  --host ADDR              bind address (env GANTRY_HOST, default 127.0.0.1)",
      "  --grpc-port N            Open Inference gRPC port (env GANTRY_GRPC_PORT, default 8001)",
      "  --metrics-port N         Prometheus /metrics port (env GANTRY_METRICS_PORT, default 8002)",
      "  --metrics-host ADDR      bind address of /metrics (env GANTRY_METRICS_HOST, default --host's)",
      "  --models a,b             models to load at start (env GANTRY_MODELS, default all)",
      "  --device cpu|gpu|gpu:N   run every model there (env GANTRY_DEVICE, default: each config's)",
      "  --max-message-bytes N    largest gRPC message (env GANTRY_MAX_MESSAGE_BYTES, default 67108864)",
      "  --engine-threads N       threads per engine call (env GANTRY_ENGINE_THREADS, default 1; 0 = engine's own)",
      "  --shutdown-grace-ms N    on SIGTERM, time in-flight requests get to finish (env GANTRY_SHUTDOWN_GRACE_MS,",
      "                           default 20000)",
      "  --fetch-only             resolve and download the model URIs into the cache, then exit (an init container)",
      "  --help                   this text");

  /** Default of {@code --shutdown-grace-ms}. */
  public static final int DEFAULT_SHUTDOWN_GRACE_MS = 20_000;

  public RunnerOptions {
    requireNonNull(modelRepository, "modelRepository");
    requireNonNull(host, "host");
    models = List.copyOf(models);
    requireNonNull(device, "device");
    requireNonNull(modelRepository, "modelRepository");
    sources = List.copyOf(sources);
    requireNonNull(modelCache, "modelCache");
    requireNonNull(metricsHost, "metricsHost");
  }

  /** Defaults for tests: ephemeral ports on loopback. */
  public static RunnerOptions forRepository(Path repository, String... models) {
    return new RunnerOptions(Optional.of(repository), "127.0.0.1", 0, 0, Arrays.asList(models), Optional.empty(),
        64 << 20, 1, DEFAULT_SHUTDOWN_GRACE_MS, List.of(), defaultCache(Map.of()), "127.0.0.1");
  }

  /** The same options serving these models by URI, kept in this cache. */
  public RunnerOptions withSources(List<SourceSpec> newSources, Path cache) {
    return new RunnerOptions(modelRepository, host, grpcPort, metricsPort, models, device, maxMessageBytes,
        engineThreads, shutdownGraceMs, newSources, cache, metricsHost);
  }

  /** The same options without a model repository directory. */
  public RunnerOptions withoutRepository() {
    return new RunnerOptions(Optional.empty(), host, grpcPort, metricsPort, models, device, maxMessageBytes,
        engineThreads, shutdownGraceMs, sources, modelCache, metricsHost);
  }

  private static Path defaultCache(Map<String, String> env) {
    String xdg = env.get("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("gantry").resolve("models");
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
    values.put("model-uri", env.getOrDefault("GANTRY_MODEL_URI", ""));
    values.put("model-name", env.getOrDefault("GANTRY_MODEL_NAME", ""));
    values.put("watch", env.getOrDefault("GANTRY_MODEL_WATCH", ""));
    values.put("model-cache", env.getOrDefault("GANTRY_MODEL_CACHE", defaultCache(env).toString()));
    values.put("metrics-host", env.getOrDefault("GANTRY_METRICS_HOST", ""));
    boolean repositoryGiven = env.containsKey("GANTRY_MODEL_REPOSITORY");
    List<SourceSpec> sources = new ArrayList<>();
    String configFile = env.get("GANTRY_CONFIG");
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals("--config")) {
        configFile = args[i + 1];
      }
    }
    if (configFile != null && !configFile.isBlank()) {
      repositoryGiven |= fromYaml(Path.of(configFile), values, env, sources);
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
      repositoryGiven |= key.equals("model-repository");
      values.put(key, value);
    }
    if (!values.get("model-uri").isBlank()) {
      ModelUri uri = ModelUri.parse(values.get("model-uri"));
      String name = values.get("model-name").isBlank() ? SourceSpec.defaultName(uri) : values.get("model-name").trim();
      sources.add(0, new SourceSpec(name, uri, duration("--watch", values.get("watch"))));
    } else if (!values.get("model-name").isBlank() || !values.get("watch").isBlank()) {
      throw new IllegalArgumentException("--model-name and --watch apply to --model-uri, which is not set");
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
    Optional<Path> repository = sources.isEmpty() || repositoryGiven
        ? Optional.of(Path.of(values.get("model-repository"))) : Optional.empty();
    return new RunnerOptions(repository, values.get("host"),
        port(values, "grpc-port"), port(values, "metrics-port"), models, device,
        positive(values, "max-message-bytes"), nonNegative(values, "engine-threads"),
        nonNegative(values, "shutdown-grace-ms"), sources, Path.of(values.get("model-cache")),
        values.get("metrics-host").isBlank() ? values.get("host") : values.get("metrics-host").trim());
  }

  /** A period such as {@code 30s}, {@code 500ms}, {@code 5m} or {@code 1h}; empty when blank. */
  static Optional<Duration> duration(String what, String text) {
    if (text == null || text.isBlank()) {
      return Optional.empty();
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h)").matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(what + " '" + text + "' is not a duration; write e.g. 30s, 5m or 1h");
    }
    long n = Long.parseLong(m.group(1));
    return Optional.of(switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    });
  }

  /**
   * Settings from the file's {@code runner:} section, unless an environment variable set them; its
   * {@code sources} list goes to {@code sources}.
   *
   * @return whether the file set the model repository
   */
  private static boolean fromYaml(Path file, Map<String, String> values, Map<String, String> env,
      List<SourceSpec> sources) {
    com.fasterxml.jackson.databind.JsonNode root;
    try {
      root = new com.fasterxml.jackson.dataformat.yaml.YAMLMapper().readTree(file.toFile());
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException(file + ": cannot read YAML: " + e.getMessage()
          + "; fix: check the path given to --config / GANTRY_CONFIG and the YAML syntax");
    }
    com.fasterxml.jackson.databind.JsonNode section = root == null ? null : root.get("runner");
    if (section == null) {
      return false;
    }
    boolean repositoryGiven = false;
    for (Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> e : section.properties()) {
      if (e.getKey().equals("sources")) {
        sources.addAll(sources(file, e.getValue()));
        continue;
      }
      String key = e.getKey().replace('_', '-');
      repositoryGiven |= key.equals("model-repository");
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
    return repositoryGiven;
  }

  /** {@code runner.sources}: a list of {@code {uri, name, watch}}. */
  private static List<SourceSpec> sources(Path file, com.fasterxml.jackson.databind.JsonNode list) {
    if (!list.isArray()) {
      throw new IllegalArgumentException(file + ": 'runner.sources' must be a list of {uri, name, watch}");
    }
    List<SourceSpec> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      com.fasterxml.jackson.databind.JsonNode item = list.get(i);
      String where = file + ": 'runner.sources[" + i + "]'";
      java.util.Iterator<String> keys = item.fieldNames();
      while (keys.hasNext()) {
        String k = keys.next();
        if (!List.of("uri", "name", "watch").contains(k)) {
          throw new IllegalArgumentException(where + " has unknown key '" + k + "'; fix: use uri, name and watch");
        }
      }
      if (!item.path("uri").isTextual()) {
        throw new IllegalArgumentException(where + " has no 'uri'; fix: add e.g. uri: models:/churn@champion");
      }
      try {
        ModelUri uri = ModelUri.parse(item.path("uri").asText());
        String name = item.path("name").asText("");
        out.add(new SourceSpec(name.isBlank() ? SourceSpec.defaultName(uri) : name, uri,
            duration("watch", item.path("watch").asText(""))));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
      }
    }
    return out;
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
