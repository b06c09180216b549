package dev.gantry.sidecar;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.gantry.sidecar.cluster.ClusterSettings;
import dev.gantry.sidecar.rollout.RolloutSpec;
import dev.gantry.sidecar.core.SpecReader;
import dev.gantry.sidecar.experiment.ExperimentSpec;
import dev.gantry.sidecar.routing.EndpointSpec;
import dev.gantry.sidecar.routing.EndpointSpecParser;
import dev.gantry.sidecar.routing.SpecProblem;
import dev.gantry.sidecar.shadow.ShadowKind;
import dev.gantry.sidecar.shadow.ShadowSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.StreamSupport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/**
 * The sidecar's command line, each setting declared once with its flag, environment variable and default
 * ({@code ${env:NAME:-default}}). Its YAML key is the flag's name with {@code _} ({@code --max-in-flight} is
 * {@code sidecar.max_in_flight}). Precedence: flag, then environment variable, then the file, then the default.
 */
@Command(name = "sidecar-proxy", sortOptions = false, usageHelpWidth = 120,
    description = "Gantry's sidecar-proxy: REST and gRPC in front of the model-runner.%n"
        + "Every setting also comes from its environment variable or the 'sidecar:' section of the YAML file.")
final class SidecarOptions {
  @Option(names = "--config", defaultValue = "${env:GANTRY_CONFIG:-}", paramLabel = "FILE",
      description = "YAML file with a 'sidecar:' section")
  String config;
  @Option(names = "--host", defaultValue = "${env:GANTRY_SIDECAR_HOST:-0.0.0.0}", description = "address to listen on")
  String host;
  @Option(names = "--port", defaultValue = "${env:GANTRY_SIDECAR_PORT:-8080}",
      description = "REST and gRPC port (HTTP/1.1 and h2c)")
  int port;
  @Option(names = "--runner-host", defaultValue = "${env:GANTRY_RUNNER_HOST:-127.0.0.1}",
      description = "model-runner address")
  String runnerHost;
  @Option(names = "--runner-port", defaultValue = "${env:GANTRY_RUNNER_PORT:-8001}", description = "model-runner port")
  int runnerPort;
  @Option(names = "--runner-socket", defaultValue = "${env:GANTRY_RUNNER_SOCKET:-}",
      description = "reach the model-runner on this Unix domain socket (its --grpc-socket) instead of"
          + " --runner-host:--runner-port (Linux x86-64); blank: TCP")
  String runnerSocket;
  @Option(names = "--default-model", defaultValue = "${env:GANTRY_DEFAULT_MODEL:-}",
      description = "model (or endpoint) for paths without one (/invocations, /api/v1.0/predictions)")
  String defaultModel;
  @Option(names = "--max-body-bytes", defaultValue = "${env:GANTRY_MAX_BODY_BYTES:-10485760}",
      description = "largest request body (413 / RESOURCE_EXHAUSTED beyond)")
  int maxBodyBytes;
  @Option(names = "--request-timeout-ms", defaultValue = "${env:GANTRY_REQUEST_TIMEOUT_MS:-30000}",
      description = "per-request timeout (504 / DEADLINE_EXCEEDED); a shorter gRPC deadline wins")
  int requestTimeoutMs;
  @Option(names = "--max-in-flight", defaultValue = "${env:GANTRY_MAX_IN_FLIGHT:-1024}",
      description = "requests in flight before new ones are refused (429 / RESOURCE_EXHAUSTED)")
  int maxInFlight;
  @Option(names = "--health-interval-ms", defaultValue = "${env:GANTRY_HEALTH_INTERVAL_MS:-1000}",
      description = "runner probe period")
  int healthIntervalMs;
  @Option(names = "--event-loops", defaultValue = "${env:GANTRY_EVENT_LOOPS:-0}",
      description = "HTTP server instances; 0 = one per core")
  int eventLoops;
  @Option(names = "--shutdown-grace-ms", defaultValue = "${env:GANTRY_SHUTDOWN_GRACE_MS:-20000}",
      description = "on SIGTERM: not ready at once, then in-flight requests may finish for this long before exit")
  int shutdownGraceMs;
  @Option(names = "--runner-keepalive-ms", defaultValue = "${env:GANTRY_RUNNER_KEEPALIVE_MS:-5000}",
      description = "HTTP/2 PING period to the runner; a PING unanswered for this long closes the connection")
  int runnerKeepaliveMs;
  @Option(names = "--warmup-ms", defaultValue = "${env:GANTRY_WARMUP_MS:-60000}",
      description = "longest warm-up before /readyz turns true: the sidecar sends itself requests for the runner's"
          + " models until its throughput stops rising (0: none, ready as soon as the runner is)")
  int warmupMs;
  @Option(names = "--forward-headers", defaultValue = "${env:GANTRY_FORWARD_HEADERS:-}",
      description = "comma-separated extra headers / gRPC metadata keys passed on to the runner")
  String forwardHeaders;
  @Option(names = "--admin-host", defaultValue = "${env:GANTRY_ADMIN_HOST:-0.0.0.0}",
      description = "admin API address (loopback only while no admin token is set)")
  String adminHost;
  @Option(names = "--admin-port", defaultValue = "${env:GANTRY_ADMIN_PORT:-8081}", description = "admin API port")
  int adminPort;
  @Option(names = "--admin-token", defaultValue = "${env:GANTRY_ADMIN_TOKEN:-}",
      description = "bearer token the admin API requires (at least " + SidecarConfig.MIN_TOKEN_LENGTH + " characters)")
  String adminToken;
  @Option(names = "--admin-token-file", defaultValue = "${env:GANTRY_ADMIN_TOKEN_FILE:-}",
      description = "file holding the admin token (a mounted Secret); used when no admin token is set")
  String adminTokenFile;
  @Option(names = "--cluster", defaultValue = "${env:GANTRY_CLUSTER:-embedded}",
      description = "embedded: share state through an embedded Hazelcast member; off: this sidecar alone")
  String cluster;
  @Option(names = "--cluster-name", defaultValue = "${env:GANTRY_CLUSTER_NAME:-gantry}",
      description = "cluster name; sidecars of one Deployment share one, others never join")
  String clusterName;
  @Option(names = "--cluster-host", defaultValue = "${env:GANTRY_CLUSTER_HOST:-127.0.0.1}",
      description = "address the member binds and is reached at (in Kubernetes: the pod IP)")
  String clusterHost;
  @Option(names = "--cluster-port", defaultValue = "${env:GANTRY_CLUSTER_PORT:-5701}", description = "member port")
  int clusterPort;
  @Option(names = "--cluster-members", defaultValue = "${env:GANTRY_CLUSTER_MEMBERS:-}",
      description = "comma-separated host[:port] of the members to join over TCP/IP (multicast is off)")
  String clusterMembers;
  @Option(names = "--cluster-kubernetes-dns", defaultValue = "${env:GANTRY_CLUSTER_KUBERNETES_DNS:-}",
      description = "DNS name of a headless Service whose addresses are the members (instead of --cluster-members)")
  String clusterKubernetesDns;
  @Option(names = "--cluster-quorum", defaultValue = "${env:GANTRY_CLUSTER_QUORUM:-0}",
      description = "fewest members that may advance rollouts (a smaller side of a split stops); 0: a majority of"
          + " --cluster-members when listed, else 1")
  int clusterQuorum;
  @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help and exit")
  boolean help;

  private static final Pattern ENV_DEFAULT = Pattern.compile("\\$\\{env:([A-Z0-9_]+):-(.*)}");

  /** Where each option's value came from, by flag name, for messages. */
  private final Map<String, String> sources = new HashMap<>();

  /** Every setting with its environment variable and default, as {@code --help} prints it. */
  static String usage() {
    StringBuilder sb = new StringBuilder("Usage: java -jar sidecar-proxy.jar [--config FILE] [options]\n");
    CommandLine cli = new CommandLine(new SidecarOptions());
    cli.setInterpolateVariables(false);
    for (OptionSpec o : cli.getCommandSpec().options()) {
      Matcher m = ENV_DEFAULT.matcher(String.valueOf(o.defaultValue()));
      if (!m.matches()) {
        continue;
      }
      sb.append(String.format("  %-26s %s (env %s, default %s)%n", o.longestName() + (o.longestName().equals("--config")
          ? " FILE" : " V"), String.join(" ", o.description()), m.group(1), m.group(2).isEmpty() ? "none" : m.group(2)));
    }
    return sb.append("The YAML file's 'sidecar:' section takes each flag's name with '_' (max_in_flight), and"
        + " 'endpoints:'.\n").toString();
  }

  static SidecarConfig parse(String[] args, Map<String, String> env) {
    SidecarOptions options = new SidecarOptions();
    CommandLine cli = new CommandLine(options);
    // the ${env:NAME:-default} of each option is read by defaultFor, from the environment it is given (not picocli's)
    cli.setInterpolateVariables(false);
    // the file named by --config (or GANTRY_CONFIG) is read before the other defaults are looked up
    String configFile = configFile(args, env);
    FileSettings file = configFile.isBlank() ? FileSettings.NONE : FileSettings.read(Path.of(configFile), cli);
    cli.setDefaultValueProvider(spec -> options.defaultFor(spec, env, file));
    try {
      cli.parseArgs(args);
    } catch (CommandLine.ParameterException e) {
      throw new IllegalArgumentException(explain(e, options) + "\n" + SidecarConfig.usage());
    }
    return options.toConfig(file);
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
  private String defaultFor(ArgSpec spec, Map<String, String> env, FileSettings file) {
    if (!(spec instanceof OptionSpec option) || option.usageHelp()) {
      return null;
    }
    Matcher m = ENV_DEFAULT.matcher(String.valueOf(option.defaultValue()));
    if (!m.matches()) {
      return null;
    }
    String name = option.longestName();
    if (env.containsKey(m.group(1))) {
      sources.put(name, "environment variable " + m.group(1));
      return env.get(m.group(1));
    }
    String key = key(name);
    if (file.values().containsKey(key)) {
      sources.put(name, file.path() + " 'sidecar." + key + "'");
      return file.values().get(key);
    }
    sources.put(name, "default");
    return m.group(2);
  }

  private String source(String flag) {
    return sources.getOrDefault(flag, "flag " + flag);
  }

  static String key(String flag) {
    return flag.substring(2).replace('-', '_');
  }

  private static String explain(CommandLine.ParameterException e, SidecarOptions options) {
    if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
      String first = u.getUnmatched().get(0);
      List<String> suggestions = u.getCommandLine().getCommandSpec().options().stream().map(OptionSpec::longestName)
          .filter(name -> distance(name, first.split("=")[0]) <= 2).toList();
      return (first.startsWith("-") ? "unknown flag " : "unexpected argument ") + first
          + (suggestions.isEmpty() ? "" : "; did you mean " + String.join(" or ", suggestions) + "?");
    }
    if (e.getArgSpec() instanceof OptionSpec o) {
      String source = options.source(o.longestName());
      return e.getMessage() + " (from " + source + ")";
    }
    return e.getMessage();
  }

  /** Edit distance of two short strings, for "did you mean" (picocli suggests only for some misspellings). */
  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      int[] cur = new int[b.length() + 1];
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1)
            ? 0 : 1));
      }
      prev = cur;
    }
    return prev[b.length()];
  }

  SidecarConfig toConfig(FileSettings file) {
    return new SidecarConfig(host, range("--port", port, 0, 65535), runnerHost, range("--runner-port", runnerPort, 1,
        65535), defaultModel.isBlank() ? Optional.empty() : Optional.of(defaultModel.trim()),
        range("--max-body-bytes", maxBodyBytes, 1, Integer.MAX_VALUE),
        range("--request-timeout-ms", requestTimeoutMs, 1, Integer.MAX_VALUE),
        range("--max-in-flight", maxInFlight, 1, Integer.MAX_VALUE),
        range("--health-interval-ms", healthIntervalMs, 50, Integer.MAX_VALUE),
        range("--event-loops", eventLoops, 0, 256), range("--shutdown-grace-ms", shutdownGraceMs, 0, Integer.MAX_VALUE),
        range("--runner-keepalive-ms", runnerKeepaliveMs, 100, Integer.MAX_VALUE), headerNames(), clusterSettings(),
        adminHost.trim(), range("--admin-port", adminPort, 0, 65535), adminToken(), file.endpoints(),
        file.shadows(), file.experiments(), file.rollouts(), range("--warmup-ms", warmupMs, 0, 600_000),
        runnerSocket.isBlank() ? Optional.empty() : Optional.of(runnerSocket.trim()));
  }

  private int range(String flag, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(key(flag) + " = " + value + " (from " + source(flag) + ") must be a whole"
          + " number from " + min + " to " + max);
    }
    return value;
  }

  private List<String> headerNames() {
    List<String> names = new ArrayList<>();
    for (String raw : forwardHeaders.split(",")) {
      String name = raw.trim().toLowerCase(Locale.ROOT);
      if (name.isEmpty()) {
        continue;
      }
      if (!name.matches("[a-z0-9][a-z0-9_.-]*") || name.startsWith("grpc-") || name.length() > 64) {
        throw new IllegalArgumentException("forward_headers = '" + forwardHeaders + "' (from "
            + source("--forward-headers") + "): '" + raw.trim() + "' is not a header name that can be passed on; fix:"
            + " list lower-case header names (letters, digits, '-', '_', '.'), not grpc-*, separated by commas");
      }
      names.add(name);
    }
    return names;
  }

  private ClusterSettings clusterSettings() {
    String mode = cluster.trim().toLowerCase(Locale.ROOT);
    if (!mode.equals("embedded") && !mode.equals("off")) {
      throw new IllegalArgumentException("cluster = '" + cluster + "' (from " + source("--cluster")
          + ") must be 'embedded' or 'off'");
    }
    String name = clusterName.trim();
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")) {
      throw new IllegalArgumentException("cluster_name = '" + name + "' (from " + source("--cluster-name")
          + ") must be 1-64 letters, digits, '-', '_' or '.'");
    }
    List<String> members = new ArrayList<>();
    for (String raw : clusterMembers.split(",")) {
      String member = raw.trim();
      if (member.isEmpty()) {
        continue;
      }
      if (!member.matches("[A-Za-z0-9._\\\\[\\\\]:-]+")) {
        throw new IllegalArgumentException("cluster_members = '" + clusterMembers + "' (from "
            + source("--cluster-members") + "): '" + member + "' is not host or host:port");
      }
      members.add(member);
    }
    String dns = clusterKubernetesDns.trim();
    return new ClusterSettings(mode.equals("embedded"), name, clusterHost.trim(), range("--cluster-port", clusterPort,
        1, 65535), members, dns.isEmpty() ? Optional.empty() : Optional.of(dns),
        range("--cluster-quorum", clusterQuorum, 0, 1000));
  }

  private Optional<String> adminToken() {
    String token = adminToken.trim();
    String from = source("--admin-token");
    if (token.isEmpty() && !adminTokenFile.isBlank()) {
      Path file = Path.of(adminTokenFile.trim());
      if (!Files.exists(file)) {
        // an optional Secret that is not there: no token, so the admin API listens on loopback only (the safe side)
        org.slf4j.LoggerFactory.getLogger(SidecarOptions.class).warn("event=admin_token_file_missing file={}"
            + " admin=loopback_only", file);
        return Optional.empty();
      }
      try {
        token = Files.readString(file).trim();
      } catch (IOException e) {
        throw new IllegalArgumentException("admin_token_file = '" + file + "' (from " + source("--admin-token-file")
            + ") cannot be read: " + e.getMessage());
      }
      from = "file " + file;
    }
    if (token.isEmpty()) {
      return Optional.empty();
    }
    if (token.length() < SidecarConfig.MIN_TOKEN_LENGTH || token.chars().anyMatch(c -> c <= ' ' || c > '~')) {
      throw new IllegalArgumentException("the admin token (from " + from + ") must be at least "
          + SidecarConfig.MIN_TOKEN_LENGTH + " visible ASCII characters; fix: e.g. GANTRY_ADMIN_TOKEN=$(openssl rand"
          + " -hex 24)");
    }
    return Optional.of(token);
  }

  /** The {@code sidecar:} section of the YAML file: settings by key, and the endpoints it declares. */
  record FileSettings(Path path, Map<String, String> values, List<EndpointSpec> endpoints, List<ShadowSpec> shadows,
      List<ExperimentSpec> experiments, List<RolloutSpec> rollouts) {
    static final FileSettings NONE = new FileSettings(Path.of(""), Map.of(), List.of(), List.of(), List.of(),
        List.of());

    static FileSettings read(Path file, CommandLine cli) {
      JsonNode root;
      try {
        root = new YAMLMapper().readTree(file.toFile());
      } catch (IOException e) {
        throw new IllegalArgumentException(file + ": cannot read YAML: " + e.getMessage()
            + "; fix: check the path given to --config / GANTRY_CONFIG and the YAML syntax");
      }
      JsonNode section = root == null ? null : root.get("sidecar");
      if (section == null) {
        return new FileSettings(file, Map.of(), List.of(), List.of(), List.of(), List.of());
      }
      if (!section.isObject()) {
        throw new IllegalArgumentException(file + ": 'sidecar' must be a mapping of settings");
      }
      Set<String> known = new HashSet<>();
      cli.getCommandSpec().options().stream().filter(o -> !o.usageHelp() && !o.longestName().equals("--config"))
          .forEach(o -> known.add(key(o.longestName())));
      Map<String, String> values = new HashMap<>();
      List<EndpointSpec> endpoints = List.of();
      List<ShadowSpec> shadows = List.of();
      List<ExperimentSpec> experiments = List.of();
      List<RolloutSpec> rollouts = List.of();
      for (Map.Entry<String, JsonNode> e : section.properties()) {
        if (e.getKey().equals("endpoints")) {
          EndpointSpecParser parser = new EndpointSpecParser();
          endpoints = specs(file, e.getValue(), "endpoints", parser::json, EndpointSpec::problems, EndpointSpec::name);
          continue;
        }
        if (e.getKey().equals("experiments")) {
          experiments = specs(file, e.getValue(), "experiments",
              new SpecReader<>(ExperimentSpec.class, "experiment spec")::json, ExperimentSpec::problems,
              ExperimentSpec::name);
          continue;
        }
        if (e.getKey().equals("rollouts")) {
          rollouts = specs(file, e.getValue(), "rollouts", new SpecReader<>(RolloutSpec.class, "rollout spec")::json,
              RolloutSpec::problems, RolloutSpec::name);
          continue;
        }
        if (e.getKey().equals("shadows")) {
          shadows = specs(file, e.getValue(), "shadows", ShadowKind.reader()::json, ShadowSpec::problems,
              ShadowSpec::name);
          continue;
        }
        if (!known.contains(e.getKey())) {
          throw new IllegalArgumentException(file + ": 'sidecar." + e.getKey() + "' is not a known setting; fix: use"
              + " one of " + new java.util.TreeSet<>(known) + ", endpoints, shadows, experiments or rollouts");
        }
        JsonNode value = e.getValue();
        // a YAML list (forward_headers: [x-tenant, x-user]) is the same as its comma-separated form
        values.put(e.getKey(), value.isArray() ? String.join(",", StreamSupport.stream(value.spliterator(), false)
            .map(JsonNode::asText).toList()) : value.asText());
      }
      return new FileSettings(file, values, endpoints, shadows, experiments, rollouts);
    }

    /** {@code sidecar.<key>}: a list of specs, each checked now so that a bad one stops the start. */
    private static <S> List<S> specs(Path file, JsonNode list, String key, Function<String, S> read,
        Function<S, List<SpecProblem>> problems, Function<S, String> name) {
      if (!list.isArray()) {
        throw new IllegalArgumentException(file + ": 'sidecar." + key + "' must be a list of specs");
      }
      List<S> specs = new ArrayList<>();
      Set<String> names = new HashSet<>();
      for (int i = 0; i < list.size(); i++) {
        String where = file + ": 'sidecar." + key + "[" + i + "]'";
        S spec;
        try {
          spec = read.apply(list.get(i).toString());
        } catch (RuntimeException e) {
          throw new IllegalArgumentException(where + ": " + e.getMessage());
        }
        List<SpecProblem> found = problems.apply(spec);
        if (!found.isEmpty()) {
          throw new IllegalArgumentException(where + ": " + String.join("; ", found.stream()
              .map(SpecProblem::toString).toList()));
        }
        if (!names.add(name.apply(spec))) {
          throw new IllegalArgumentException(where + ": '" + name.apply(spec) + "' is declared twice");
        }
        specs.add(spec);
      }
      return List.copyOf(specs);
    }
  }
}
