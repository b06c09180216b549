package dev.gantry.perf;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * From start to full speed: a fresh runner and sidecar per setting, and from the moment the sidecar's {@code /readyz}
 * turns true, back-to-back 5-second windows of load from a generator we did not write ({@code wrk} on MLflow
 * {@code /invocations}, 16 connections; {@code h2load} on gRPC ModelInfer, 4 connections × 4 streams), each
 * window's throughput and p99; then, after the settings have had {@code warm} seconds under load in all, two more
 * windows as the steady state. The share of steady throughput served in the first 10 s is the figure of merit.
 * Also: start-up time (process start to {@code /readyz}), and RSS and CPU per 1000 requests in the steady windows.
 *
 * <p>Usage: {@code WarmupBenchmark <windows> <warm-seconds> <out-prefix> <setting>...}, a setting being
 * {@code label|java|runner JVM options|sidecar JVM options|sidecar environment (k=v,...)}, options separated by
 * spaces ({@code @file} argument files allowed).
 */
public final class WarmupBenchmark {
  private static final double WINDOW = 5;
  private static final String REST_BODY = "{\"inputs\": [[12, 70.35, 844.2]]}";

  private WarmupBenchmark() {}

  record Setting(String label, String java, List<String> runnerOpts, List<String> sidecarOpts,
      Map<String, String> sidecarEnv) {
    static Setting parse(String text) {
      String[] f = text.split("\\|", -1);
      if (f.length != 5) {
        throw new IllegalArgumentException("a setting is label|java|runner options|sidecar options|sidecar env: "
            + text);
      }
      Map<String, String> env = new HashMap<>();
      // the sidecar's default (see SidecarOptions), which ChildProcesses turns off for other benchmarks
      env.put("GANTRY_WARMUP_MS", "60000");
      for (String kv : f[4].split(",")) {
        if (!kv.isBlank()) {
          env.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        }
      }
      return new Setting(f[0], f[1], words(f[2]), words(f[3]), env);
    }

    private static List<String> words(String s) {
      return Arrays.stream(s.trim().split("\\s+")).filter(w -> !w.isEmpty()).toList();
    }
  }

  record Window(double startSeconds, double perSecond, double p99Micros, long errors) {}

  record Curve(String setting, String protocol, double startupSeconds, List<Window> windows, Window steady,
      long sidecarRssMb, long runnerRssMb, double sidecarCpuPer1k) {
    double firstTenSecondsShare() {
      double first = (windows.get(0).perSecond() + windows.get(1).perSecond()) / 2;
      return first / steady.perSecond();
    }
  }

  public static void main(String[] args) throws Exception {
    int windows = Integer.parseInt(args[0]);
    double warm = Double.parseDouble(args[1]);
    Path out = Path.of(args[2]);
    List<Setting> settings = Arrays.stream(args).skip(3).map(Setting::parse).toList();
    Path root = Path.of("").toAbsolutePath();
    List<Curve> curves = new ArrayList<>();
    for (String protocol : System.getProperty("gantry.bench.protocols", "rest,grpc").split(",")) {
      for (Setting s : settings) {
        Curve c = run(root, s, protocol, windows, warm);
        curves.add(c);
        System.out.printf(Locale.ROOT, "%s %s: ready after %.1f s, first 10 s %.0f%% of steady (%.0f req/s)%n",
            s.label(), protocol, c.startupSeconds(), 100 * c.firstTenSecondsShare(), c.steady().perSecond());
      }
    }
    String report = report(curves, windows, warm);
    System.out.println(report);
    Files.writeString(Path.of(out + ".md"), report);
    writePlotData(curves, out);
  }

  static Curve run(Path root, Setting s, String protocol, int windows, double warm) throws Exception {
    try (ChildProcesses processes = new ChildProcesses()) {
      Path repo = SidecarBenchmark.repository(root.resolve("examples/models"),
          processes.temporaryDirectory("gantry-warmup-bench"));
      int runnerPort = ChildProcesses.freePort();
      int port = ChildProcesses.freePort();
      List<String> runner = new ArrayList<>(List.of(s.java(), "-Dai.djl.offline=true"));
      runner.addAll(s.runnerOpts());
      runner.addAll(List.of("-jar", root.resolve("model-runner/target/model-runner.jar").toString(),
          "--model-repository", repo.toString(), "--grpc-port", Integer.toString(runnerPort), "--metrics-port", "0"));
      Process r = processes.start("event=runner_started", runner.toArray(String[]::new));
      List<String> sidecar = new ArrayList<>(List.of(s.java()));
      sidecar.addAll(s.sidecarOpts());
      sidecar.addAll(List.of("-jar", root.resolve("sidecar-proxy/target/sidecar-proxy.jar").toString(), "--host",
          "127.0.0.1", "--port", Integer.toString(port), "--runner-port", Integer.toString(runnerPort),
          "--default-model", "mlp", "--max-in-flight", "100000"));
      long spawned = System.nanoTime();
      Process side = processes.start(s.sidecarEnv(), "event=sidecar_started", sidecar.toArray(String[]::new));
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      while (!ready(http, port)) {
        Thread.sleep(20);
      }
      double startup = (System.nanoTime() - spawned) / 1e9;
      List<Window> curve = new ArrayList<>();
      for (int i = 0; i < windows; i++) {
        LatencyRecorder.Result res = load(protocol, port, WINDOW);
        curve.add(new Window(i * WINDOW, res.opsPerSecond(), res.p99Micros(), res.errors()));
      }
      double left = warm - windows * WINDOW;
      if (left > 0) {
        load(protocol, port, left);
      }
      long ticks0 = ChildProcesses.cpuTicks(side.pid());
      LatencyRecorder.Result a = load(protocol, port, WINDOW);
      LatencyRecorder.Result b = load(protocol, port, WINDOW);
      long ticks = ChildProcesses.cpuTicks(side.pid()) - ticks0;
      double steadyRate = (a.opsPerSecond() + b.opsPerSecond()) / 2;
      Window steady = new Window(warm, steadyRate, Math.max(a.p99Micros(), b.p99Micros()), a.errors() + b.errors());
      double cpuPer1k = ticks / ChildProcesses.TICKS_PER_SECOND / (2 * WINDOW) / (steadyRate / 1000);
      return new Curve(s.label(), protocol, startup, curve, steady, ChildProcesses.rssKb(side.pid()) / 1024,
          ChildProcesses.rssKb(r.pid()) / 1024, cpuPer1k);
    }
  }

  private static LatencyRecorder.Result load(String protocol, int port, double seconds) throws Exception {
    return protocol.equals("rest") ? ExternalLoad.wrk(port, "/invocations", REST_BODY, 16, seconds)
        : ExternalLoad.h2load(port, RunnerBenchmark.INFER, RunnerBenchmark.request("mlp").toByteArray(), 4, 4,
            seconds);
  }

  /** Whether the sidecar on {@code port} answers {@code /readyz} with 200. */
  static boolean ready(HttpClient http, int port) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
          .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  static String report(List<Curve> curves, int windows, double warm) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "Warm-up: %d windows of %.0f s from /readyz, steady = 2 windows after %.0f s"
        + " under load; %s; %d cores%n%n", windows, WINDOW, warm, LocalDate.now(),
        Runtime.getRuntime().availableProcessors()));
    sb.append("| setting | protocol | start to ready s | first 10 s req/s | steady req/s | first 10 s share"
        + " | steady p99 µs | sidecar RSS MB | runner RSS MB | sidecar CPU per 1000 req/s |\n");
    sb.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Curve c : curves) {
      sb.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %.0f | %.0f | %.0f %% | %.0f | %d | %d | %.3f |%n",
          c.setting(), c.protocol(), c.startupSeconds(), (c.windows().get(0).perSecond()
              + c.windows().get(1).perSecond()) / 2, c.steady().perSecond(), 100 * c.firstTenSecondsShare(),
          c.steady().p99Micros(), c.sidecarRssMb(), c.runnerRssMb(), c.sidecarCpuPer1k()));
    }
    sb.append("\nPer window (req/s / p99 ms), from /readyz:\n\n| setting | protocol |");
    for (int i = 0; i < windows; i++) {
      sb.append(String.format(Locale.ROOT, " %.0f–%.0f s |", i * WINDOW, (i + 1) * WINDOW));
    }
    sb.append(" steady |\n|---|---|").append("---:|".repeat(windows + 1)).append('\n');
    for (Curve c : curves) {
      sb.append("| ").append(c.setting()).append(" | ").append(c.protocol()).append(" |");
      for (Window w : c.windows()) {
        sb.append(String.format(Locale.ROOT, " %.0f / %.1f%s |", w.perSecond(), w.p99Micros() / 1000,
            w.errors() > 0 ? " (" + w.errors() + " err)" : ""));
      }
      sb.append(String.format(Locale.ROOT, " %.0f / %.1f |%n", c.steady().perSecond(), c.steady().p99Micros() / 1000));
    }
    return sb.toString();
  }

  /** One data file per protocol (a column per setting) and a gnuplot script that draws them, when gnuplot is here. */
  static void writePlotData(List<Curve> curves, Path out) throws IOException, InterruptedException {
    List<String> protocols = curves.stream().map(Curve::protocol).distinct().toList();
    for (String protocol : protocols) {
      List<Curve> mine = curves.stream().filter(c -> c.protocol().equals(protocol)).toList();
      StringBuilder data = new StringBuilder("# window-end-seconds");
      mine.forEach(c -> data.append('\t').append(c.setting().replace(' ', '_')));
      data.append('\n');
      for (int i = 0; i < mine.get(0).windows().size(); i++) {
        data.append(String.format(Locale.ROOT, "%.0f", (i + 1) * WINDOW));
        for (Curve c : mine) {
          data.append(String.format(Locale.ROOT, "\t%.3f", c.windows().get(i).perSecond() / c.steady().perSecond()));
        }
        data.append('\n');
      }
      Files.writeString(Path.of(out + "-" + protocol + ".dat"), data);
    }
    StringBuilder plot = new StringBuilder();
    plot.append("set terminal svg size 900,420 font 'sans,11'\n")
        .append("set output '").append(out).append(".svg'\n")
        .append("set multiplot layout 1,").append(protocols.size()).append(" title 'Throughput after /readyz, share of steady state (5 s windows)'\n")
        .append("set yrange [0:1.2]\nset xlabel 'seconds after /readyz'\nset key bottom right\nset grid\n");
    for (String protocol : protocols) {
      List<Curve> mine = curves.stream().filter(c -> c.protocol().equals(protocol)).toList();
      plot.append("set title '").append(protocol.equals("rest") ? "MLflow /invocations (wrk, 16 connections)"
          : "gRPC ModelInfer (h2load, 4x4 streams)").append("'\nplot ");
      for (int i = 0; i < mine.size(); i++) {
        plot.append(i == 0 ? "" : ", ").append("'").append(out).append('-').append(protocol).append(".dat' using 1:")
            .append(i + 2).append(" with linespoints title '").append(mine.get(i).setting()).append("'");
      }
      plot.append('\n');
    }
    plot.append("unset multiplot\n");
    Path script = Path.of(out + ".gnuplot");
    Files.writeString(script, plot);
    try {
      Process p = new ProcessBuilder("gnuplot", script.toString()).inheritIO().start();
      p.waitFor();
    } catch (IOException e) {
      System.out.println("gnuplot not found (apt-get install gnuplot-nox): the plot script is " + script);
    }
  }
}
