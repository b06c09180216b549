package dev.gantry.runner;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.gantry.runner.repository.DeviceSpec;
import dev.gantry.runner.source.ModelUri;
import dev.gantry.runner.source.SourceSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/**
 * The runner's command line, each setting declared once with its flag, environment variable and default
 * ({@code ${env:NAME:-default}}). Its YAML key is the flag's name with {@code _} in the file's {@code runner:} section
 * ({@code --grpc-port} is {@code runner.grpc_port}), which also takes
 * {@code sources: [{uri, name, watch, on_new_version}]}.
 * Precedence: flag, then environment variable, then the file, then the default.
 */
@Command(name = "model-runner", sortOptions = false)
final class RunnerCommandLine {
  private static final Pattern ENV_DEFAULT = Pattern.compile("\\$\\{env:([A-Z0-9_]+):-(.*)}");

  @Option(names = "--config", defaultValue = "${env:GANTRY_CONFIG:-}", paramLabel = "FILE",
      description = "YAML file with a 'runner:' section; flags and environment variables win over it")
  String config;

  @Option(names = "--model-repository", defaultValue = "${env:GANTRY_MODEL_REPOSITORY:-examples/models}",
      description = "model repository directory (none when a model URI is given and this is not)")
  String modelRepository;

  @Option(names = "--host", defaultValue = "${env:GANTRY_HOST:-127.0.0.1}", description = "bind address")
  String host;

  @Option(names = "--grpc-port", defaultValue = "${env:GANTRY_GRPC_PORT:-8001}", description = "Open Inference gRPC")
  int grpcPort;

  @Option(names = "--metrics-port", defaultValue = "${env:GANTRY_METRICS_PORT:-8002}",
      description = "Prometheus /metrics")
  int metricsPort;

  @Option(names = "--metrics-host", defaultValue = "${env:GANTRY_METRICS_HOST:-}",
      description = "bind address of /metrics alone (blank: --host's)")
  String metricsHost;

  @Option(names = "--models", defaultValue = "${env:GANTRY_MODELS:-}", split = ",",
      description = "models to load at start, comma-separated (blank: all)")
  List<String> models;

  @Option(names = "--device", defaultValue = "${env:GANTRY_DEVICE:-}",
      description = "cpu, gpu or gpu:N for every model (blank: each config's)")
  String device;

  @Option(names = "--max-message-bytes", defaultValue = "${env:GANTRY_MAX_MESSAGE_BYTES:-67108864}",
      description = "largest gRPC message")
  int maxMessageBytes;

  @Option(names = "--engine-threads", defaultValue = "${env:GANTRY_ENGINE_THREADS:-1}",
      description = "threads per engine call (0: the engines' own)")
  int engineThreads;

  @Option(names = "--shutdown-grace-ms", defaultValue = "${env:GANTRY_SHUTDOWN_GRACE_MS:-20000}",
      description = "on SIGTERM, time in-flight requests get to finish")
  int shutdownGraceMs;

  @Option(names = "--worker-spin-us", defaultValue = "${env:GANTRY_WORKER_SPIN_US:-0}",
      description = "how long a model instance's idle worker spins before it parks, 0 to 1000 (0: parks at once)")
  int workerSpinUs;

  @Option(names = "--native-transport", defaultValue = "${env:GANTRY_NATIVE_TRANSPORT:-false}", arity = "1",
      description = "use Netty's epoll transport where it is available, else Java NIO (default false: Java NIO)")
  boolean nativeTransport;

  @Option(names = "--grpc-socket", defaultValue = "${env:GANTRY_GRPC_SOCKET:-}",
      description = "also serve gRPC on a Unix domain socket at this path (Linux x86-64; turns the native transport"
          + " on); blank: TCP only")
  String grpcSocket;

  @Option(names = "--model-uri", defaultValue = "${env:GANTRY_MODEL_URI:-}",
      description = "serve the model at this URI: models:/<name>/<version|stage|latest>, models:/<name>@<alias>,"
          + " runs:/<run_id>/<path>, mlflow-artifacts:/<path>, s3://<bucket>/<path> or an MLflow model directory")
  String modelUri;

  @Option(names = "--model-name", defaultValue = "${env:GANTRY_MODEL_NAME:-}",
      description = "the name --model-uri's model is served under (blank: the registered name or last path segment)")
  String modelName;

  @Option(names = "--watch", defaultValue = "${env:GANTRY_MODEL_WATCH:-}",
      description = "period (30s, 5m) at which --model-uri's stage, alias or latest is asked again (blank: never)")
  String watch;

  @Option(names = "--on-new-version", defaultValue = "${env:GANTRY_MODEL_ON_NEW_VERSION:-swap}",
      description = "what a new version under --watch does: swap (load it and replace the served one) or rollout"
          + " (load it beside the served one and let the sidecar's rollout policy promote or reject it)")
  String onNewVersion;

  @Option(names = "--model-cache", defaultValue = "${env:GANTRY_MODEL_CACHE:-}",
      description = "where models fetched from URIs are kept (blank: ~/.cache/gantry/models)")
  String modelCache;

  private final Map<String, String> sources = new HashMap<>();

  /** Every setting with its environment variable and default, as {@code --help} prints it. */
  static String usage() {
    StringBuilder sb = new StringBuilder("Usage: java -Dai.djl.offline=true -jar model-runner.jar [--config FILE]"
        + " [options]\n");
    CommandLine cli = new CommandLine(new RunnerCommandLine());
    cli.setInterpolateVariables(false);
    for (OptionSpec o : cli.getCommandSpec().options()) {
      Matcher m = ENV_DEFAULT.matcher(String.valueOf(o.defaultValue()));
      if (m.matches()) {
        sb.append(String.format("  %-22s %s (env %s%s)%n", o.longestName(), String.join(" ", o.description()),
            m.group(1), m.group(2).isEmpty() ? "" : ", default " + m.group(2)));
      }
    }
    return sb.append("  --fetch-only           download the model URIs into the cache, then exit (an init container)\n"
        + "  --help                 this text\n").toString();
  }

  /** Parses {@code args} over {@code env} over the YAML file. */
  static RunnerOptions parse(String[] args, Map<String, String> env) {
    RunnerCommandLine line = new RunnerCommandLine();
    CommandLine cli = new CommandLine(line);
    // each option's ${env:NAME:-default} is read by defaultFor, from the environment given (not picocli's)
    cli.setInterpolateVariables(false);
    String configFile = configFile(args, env);
    List<SourceSpec> fileSources = new ArrayList<>();
    Map<String, String> file = configFile.isBlank() ? Map.of() : fromYaml(Path.of(configFile), cli, fileSources);
    cli.setDefaultValueProvider(spec -> line.defaultFor(spec, env, file));
    CommandLine.ParseResult parsed;
    try {
      parsed = cli.parseArgs(args);
    } catch (CommandLine.ParameterException e) {
      throw new IllegalArgumentException(explain(e) + "\n" + usage());
    }
    boolean repositoryGiven = parsed.hasMatchedOption("--model-repository")
        || !line.sources.getOrDefault("--model-repository", "default").equals("default");
    return line.toOptions(env, fileSources, repositoryGiven);
  }

  private static String explain(CommandLine.ParameterException e) {
    if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
      String first = u.getUnmatched().get(0);
      return (first.startsWith("-") ? "unknown flag " : "unexpected argument ") + first;
    }
    return e.getMessage();
  }

  private static String configFile(String[] args, Map<String, String> env) {
    String file = env.getOrDefault("GANTRY_CONFIG", "");
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        file = args[i + 1];
      } else if (args[i].startsWith("--config=")) {
        file = args[i].substring("--config=".length());
      }
    }
    return file;
  }

  /** An option not given as a flag: its environment variable, else the file's key, else its default. */
  private String defaultFor(ArgSpec spec, Map<String, String> env, Map<String, String> file) {
    if (!(spec instanceof OptionSpec option) || option.usageHelp()) {
      return null;
    }
    Matcher m = ENV_DEFAULT.matcher(String.valueOf(option.defaultValue()));
    if (!m.matches()) {
      return null;
    }
    String name = option.longestName();
    if (env.containsKey(m.group(1))) {
      sources.put(name, "environment");
      return env.get(m.group(1));
    }
    String key = name.substring(2).replace('-', '_');
    if (file.containsKey(key)) {
      sources.put(name, "file");
      return file.get(key);
    }
    sources.put(name, "default");
    return m.group(2);
  }

  /** The file's {@code runner:} section as flag values by YAML key; its {@code sources} list into {@code out}. */
  private static Map<String, String> fromYaml(Path file, CommandLine cli, List<SourceSpec> out) {
    JsonNode root;
    try {
      root = new YAMLMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read YAML: " + e.getMessage()
          + "; fix: check the path given to --config / GANTRY_CONFIG and the YAML syntax");
    }
    JsonNode section = root == null ? null : root.get("runner");
    Map<String, String> values = new HashMap<>();
    if (section == null) {
      return values;
    }
    TreeSet<String> known = new TreeSet<>();
    cli.getCommandSpec().options().forEach(o -> known.add(o.longestName().substring(2).replace('-', '_')));
    known.remove("config");
    for (Map.Entry<String, JsonNode> e : section.properties()) {
      if (e.getKey().equals("sources")) {
        out.addAll(sources(file, e.getValue()));
        continue;
      }
      if (!known.contains(e.getKey())) {
        throw new IllegalArgumentException(file + ": 'runner." + e.getKey() + "' is not a known setting; fix: use"
            + " one of " + known + " or sources");
      }
      JsonNode v = e.getValue();
      if (v.isArray()) {
        List<String> items = new ArrayList<>();
        v.forEach(item -> items.add(item.asText()));
        values.put(e.getKey(), String.join(",", items));
      } else {
        values.put(e.getKey(), v.asText());
      }
    }
    return values;
  }

  /** {@code runner.sources}: a list of {@code {uri, name, watch, on_new_version}}. */
  private static List<SourceSpec> sources(Path file, JsonNode list) {
    if (!list.isArray()) {
      throw new IllegalArgumentException(file + ": 'runner.sources' must be a list of {uri, name, watch,"
          + " on_new_version}");
    }
    List<SourceSpec> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      JsonNode item = list.get(i);
      String where = file + ": 'runner.sources[" + i + "]'";
      java.util.Iterator<String> keys = item.fieldNames();
      while (keys.hasNext()) {
        String k = keys.next();
        if (!List.of("uri", "name", "watch", "on_new_version").contains(k)) {
          throw new IllegalArgumentException(where + " has unknown key '" + k + "'; fix: use uri, name, watch and"
              + " on_new_version");
        }
      }
      if (!item.path("uri").isTextual()) {
        throw new IllegalArgumentException(where + " has no 'uri'; fix: add e.g. uri: models:/churn@champion");
      }
      try {
        ModelUri uri = ModelUri.parse(item.path("uri").asText());
        String name = item.path("name").asText("");
        out.add(new SourceSpec(name.isBlank() ? SourceSpec.defaultName(uri) : name, uri,
            duration("watch", item.path("watch").asText("")),
            SourceSpec.OnNewVersion.parse(item.path("on_new_version").asText(""))));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
      }
    }
    return out;
  }

  private RunnerOptions toOptions(Map<String, String> env, List<SourceSpec> fileSources, boolean repositoryGiven) {
    List<SourceSpec> all = new ArrayList<>();
    if (!modelUri.isBlank()) {
      ModelUri uri = ModelUri.parse(modelUri);
      all.add(new SourceSpec(modelName.isBlank() ? SourceSpec.defaultName(uri) : modelName.trim(), uri,
          duration("--watch", watch), SourceSpec.OnNewVersion.parse(onNewVersion)));
    } else if (!modelName.isBlank() || !watch.isBlank() || !onNewVersion.isBlank() && !onNewVersion.equals("swap")) {
      throw new IllegalArgumentException("--model-name, --watch and --on-new-version apply to --model-uri, which is"
          + " not set");
    }
    all.addAll(fileSources);
    Optional<DeviceSpec> deviceSpec = Optional.empty();
    if (!device.isBlank()) {
      deviceSpec = Optional.of(DeviceSpec.parse(device).orElseThrow(() -> new IllegalArgumentException(
          "--device '" + device + "' is not cpu, gpu or gpu:N")));
    }
    List<String> names = models == null ? List.of()
        : models.stream().map(String::trim).filter(n -> !n.isEmpty()).toList();
    Optional<Path> repository = all.isEmpty() || repositoryGiven ? Optional.of(Path.of(modelRepository))
        : Optional.empty();
    Path cache = modelCache.isBlank() ? RunnerOptions.defaultCache(env) : Path.of(modelCache);
    return new RunnerOptions(repository, host, range("--grpc-port", grpcPort, 0, 65535),
        range("--metrics-port", metricsPort, 0, 65535), names, deviceSpec,
        range("--max-message-bytes", maxMessageBytes, 1, Integer.MAX_VALUE),
        range("--engine-threads", engineThreads, 0, Integer.MAX_VALUE),
        range("--shutdown-grace-ms", shutdownGraceMs, 0, Integer.MAX_VALUE), all, cache,
        metricsHost.isBlank() ? host : metricsHost.trim(),
        range("--worker-spin-us", workerSpinUs, 0, RunnerOptions.MAX_WORKER_SPIN_US), nativeTransport,
        grpcSocket.isBlank() ? Optional.empty() : Optional.of(Path.of(grpcSocket.trim())));
  }

  private static int range(String flag, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(flag + (min == 0 && max == Integer.MAX_VALUE ? " must be 0 or more"
          : max == Integer.MAX_VALUE ? " must be positive" : " must be from " + min + " to " + max) + ", got "
          + value);
    }
    return value;
  }

  /** A period such as {@code 30s}, {@code 500ms}, {@code 5m} or {@code 1h}; empty when blank. */
  static Optional<Duration> duration(String what, String text) {
    if (text == null || text.isBlank()) {
      return Optional.empty();
    }
    Matcher m = Pattern.compile("(\\d+)(ms|s|m|h)").matcher(text.trim().toLowerCase(Locale.ROOT));
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
}
