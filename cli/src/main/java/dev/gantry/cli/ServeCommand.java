package dev.gantry.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code gantry serve}: one model (by URI, as {@code mlflow models serve -m}) or a model repository, served by a
 * model-runner and a sidecar started as two processes, as they run in a pod. The runner listens on loopback only;
 * the sidecar on {@code --host}:{@code --port}. Ctrl-C (or SIGTERM) stops both, each draining as it does on SIGTERM.
 */
@Command(name = "serve", sortOptions = false,
    description = "Serve a model (-m URI, flags named as in 'mlflow models serve') or a model repository: starts the"
        + " model-runner and the sidecar as two processes, prints the endpoints, and stops both on Ctrl-C."
        + " MLFLOW_TRACKING_URI (with MLFLOW_TRACKING_TOKEN or _USERNAME/_PASSWORD) resolves models:/ and runs:/ URIs.")
final class ServeCommand implements Callable<Integer> {
  @ParentCommand
  Gantry gantry;

  @Option(names = {"-m", "--model-uri"}, paramLabel = "URI",
      description = "models:/<name>/<version|stage|latest>, models:/<name>@<alias>, runs:/<run_id>/<path>,"
          + " mlflow-artifacts:/<path>, s3://<bucket>/<path> or an MLflow model directory")
  String modelUri;

  @Option(names = "--model-repository", paramLabel = "DIR", description = "a model repository directory instead")
  Path repository;

  @Option(names = {"-p", "--port"}, defaultValue = "5000", description = "port of REST and gRPC (default 5000,"
      + " as mlflow models serve)")
  int port;

  @Option(names = {"-h", "--host"}, defaultValue = "127.0.0.1", description = "address to listen on (default"
      + " 127.0.0.1, as mlflow models serve)")
  String host;

  @Option(names = "--name", description = "the name the model is served under (default: the registered model's name"
      + " or the directory's)")
  String name;

  @Option(names = "--watch", paramLabel = "DURATION", description = "follow a stage, alias or latest: ask the"
      + " registry again at this period (e.g. 30s) and move to the version it names")
  String watch;

  @Option(names = "--default-model", description = "the model /invocations calls (default: the one model served)")
  String defaultModel;

  @Option(names = "--admin-port", defaultValue = "0", description = "admin API port on loopback (default: a free"
      + " one)")
  int adminPort;

  @Option(names = "--start-timeout", defaultValue = "300", paramLabel = "SECONDS",
      description = "how long downloading, loading and warming up may take (default ${DEFAULT-VALUE})")
  int startTimeout;

  @Option(names = "--home", defaultValue = "${env:GANTRY_HOME}", description = "where Gantry is built (the folder"
      + " holding model-runner/ and sidecar-proxy/; env GANTRY_HOME, default: found from this command's jar)")
  Path home;

  @Option(names = "--help", usageHelp = true, description = "print this help and exit")
  boolean help;

  @Override
  public Integer call() throws Exception {
    if ((modelUri == null) == (repository == null)) {
      throw new Gantry.UsageError("give one of -m/--model-uri URI or --model-repository DIR");
    }
    Path root = home != null ? home : findHome();
    Path runnerJar = jar(root, "model-runner/target/model-runner.jar");
    Path sidecarJar = jar(root, "sidecar-proxy/target/sidecar-proxy.jar");
    String model = defaultModel != null ? defaultModel : modelUri != null ? servedName() : onlyModel(repository);
    int grpcPort = freePort();
    int metricsPort = freePort();
    int admin = adminPort == 0 ? freePort() : adminPort;
    List<String> runnerArgs = new ArrayList<>(List.of(java()));
    runnerArgs.addAll(jvmOptions(root, "model-runner"));
    runnerArgs.addAll(List.of("-Dai.djl.offline=true", "-jar", runnerJar.toString(),
        "--host", "127.0.0.1", "--grpc-port", String.valueOf(grpcPort), "--metrics-port", String.valueOf(metricsPort)));
    if (modelUri != null) {
      runnerArgs.addAll(List.of("--model-uri", modelUri));
      if (name != null) {
        runnerArgs.addAll(List.of("--model-name", name));
      }
      if (watch != null) {
        runnerArgs.addAll(List.of("--watch", watch));
      }
    } else {
      runnerArgs.addAll(List.of("--model-repository", repository.toAbsolutePath().toString()));
    }
    List<String> sidecarArgs = new ArrayList<>(List.of(java()));
    sidecarArgs.addAll(jvmOptions(root, "sidecar-proxy"));
    sidecarArgs.addAll(List.of("-jar", sidecarJar.toString(), "--host", host,
        "--port", String.valueOf(port), "--runner-port", String.valueOf(grpcPort), "--cluster", "off",
        "--admin-host", "127.0.0.1", "--admin-port", String.valueOf(admin)));
    if (!model.isEmpty()) {
      sidecarArgs.addAll(List.of("--default-model", model));
    }
    PrintWriter out = gantry.out();
    Process runner = start(runnerArgs);
    Process sidecar;
    try {
      sidecar = start(sidecarArgs);
    } catch (IOException e) {
      stop(List.of(runner));
      throw e;
    }
    List<Process> both = List.of(sidecar, runner);
    Thread hook = new Thread(() -> stop(both), "gantry-serve-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    if (!awaitReady(both)) {
      gantry.err().println("error: Gantry did not become ready within " + startTimeout + " s, or a process exited;"
          + " see the log above");
      gantry.err().flush();
      stop(both);
      return 1;
    }
    String base = "http://" + (host.equals("0.0.0.0") ? "127.0.0.1" : host) + ":" + port;
    out.println();
    out.println("Gantry is serving " + (modelUri != null ? modelUri + " as '" + model + "'" : repository)
        + " on " + base + " (REST and gRPC)");
    if (!model.isEmpty()) {
      out.println("  MLflow:     POST " + base + "/invocations  (as mlflow models serve; model '" + model + "')");
      out.println("  KServe v1:  POST " + base + "/v1/models/" + model + ":predict");
      out.println("  v2:         POST " + base + "/v2/models/" + model + "/infer    metadata: GET "
          + base + "/v2/models/" + model);
    }
    out.println("  gRPC:       " + base.replace("http://", "") + " (inference.GRPCInferenceService)");
    out.println("  probes:     " + base + "/readyz  " + base + "/livez    metrics: " + base + "/metrics");
    out.println("  admin API:  http://127.0.0.1:" + admin + "   runner metrics: http://127.0.0.1:" + metricsPort
        + "/metrics");
    out.println("Ctrl-C stops both processes.");
    out.flush();
    // serve until one process ends (Ctrl-C ends both through the hook)
    java.util.concurrent.CompletableFuture.anyOf(runner.onExit(), sidecar.onExit()).join();
    stop(both);
    int code = runner.exitValue() != 0 ? runner.exitValue() : sidecar.exitValue();
    return code == 143 ? 0 : code;
  }

  private String servedName() {
    if (name != null) {
      return name;
    }
    String u = modelUri.trim();
    if (u.startsWith("models:/")) {
      String rest = u.substring("models:/".length());
      int cut = rest.indexOf('@') >= 0 ? rest.indexOf('@') : rest.indexOf('/') >= 0 ? rest.indexOf('/') : rest.length();
      return rest.substring(0, cut);
    }
    String t = u.replaceAll("[/\\\\]+$", "");
    String last = t.substring(Math.max(t.lastIndexOf('/'), t.lastIndexOf('\\')) + 1);
    return last.contains(":") ? last.substring(last.indexOf(':') + 1) : last;
  }

  private static String onlyModel(Path repo) throws IOException {
    if (!Files.isDirectory(repo)) {
      throw new Gantry.UsageError(repo + " is not a directory");
    }
    try (Stream<Path> children = Files.list(repo)) {
      List<String> models = children.filter(d -> Files.isRegularFile(d.resolve("config.yaml"))
          || Files.isRegularFile(d.resolve("MLmodel"))).map(d -> d.getFileName().toString()).sorted().toList();
      return models.size() == 1 ? models.get(0) : "";
    }
  }

  private Process start(List<String> command) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
    // glibc's malloc keeps an arena per thread otherwise (see sidecar-proxy/jvm.options)
    builder.environment().putIfAbsent("MALLOC_ARENA_MAX", "2");
    return builder.start();
  }

  /** The module's JVM settings file ({@code <module>/jvm.options}) as an argument file, where the build has one. */
  private static List<String> jvmOptions(Path root, String module) {
    Path options = root.resolve(module).resolve("jvm.options");
    return Files.isRegularFile(options) ? List.of("@" + options) : List.of();
  }

  private boolean awaitReady(List<Process> processes) throws InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    URI readyz = URI.create("http://" + (host.equals("0.0.0.0") ? "127.0.0.1" : host) + ":" + port + "/readyz");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(startTimeout);
    while (System.nanoTime() < deadline) {
      if (processes.stream().anyMatch(p -> !p.isAlive())) {
        return false;
      }
      try {
        HttpResponse<Void> r = http.send(HttpRequest.newBuilder(readyz).timeout(Duration.ofSeconds(2)).build(),
            HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          return true;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(250);
    }
    return false;
  }

  /** SIGTERM to each (they drain), then waits; what is still running after 30 s is killed. */
  private static void stop(List<Process> processes) {
    processes.forEach(Process::destroy);
    for (Process p : processes) {
      try {
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static Path jar(Path root, String relative) {
    Path jar = root.resolve(relative);
    if (!Files.isRegularFile(jar)) {
      throw new Gantry.UsageError(jar + " is not built; run ./mvnw -B -q -DskipTests package in " + root
          + " (or set GANTRY_HOME / --home to where Gantry is built)");
    }
    return jar;
  }

  /** The checkout this command's jar was built in: {@code <home>/cli/target/gantry-cli.jar}. */
  private static Path findHome() {
    try {
      Path self = Path.of(ServeCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      // cli/target/gantry-cli.jar or cli/target/classes
      return self.toAbsolutePath().getParent().getParent().getParent();
    } catch (java.net.URISyntaxException | RuntimeException e) {
      throw new Gantry.UsageError("cannot tell where Gantry is built; set GANTRY_HOME or --home");
    }
  }
}
