package dev.gantry.perf;

import java.io.IOException;
import java.net.http.HttpClient;
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
 * The sidecar's memory under load, settings side by side in one run: one runner for the whole run, then for each
 * round and each setting a fresh sidecar that serves load from generators we did not write ({@code wrk} on MLflow
 * {@code /invocations}, 16 connections; {@code h2load} on gRPC ModelInfer, 4 connections × 4 streams) for
 * {@code seconds} each, twice over. Reports, per setting, the peak resident set ({@code VmHWM}), the resident set at
 * the end ({@code VmRSS}), threads and loaded classes at the end, and the throughput of the last round of each
 * protocol, so that a setting's cost in speed shows beside its saving. Sidecars run with their defaults (the
 * embedded cluster member, the warm-up before readiness) unless a setting's environment says otherwise; the admin
 * API and the cluster member get free ports.
 *
 * <p>Usage: {@code SidecarMemory <seconds> <rounds> <out-file> <setting>...}, a setting being
 * {@code label|java|sidecar JVM options|sidecar environment (k=v,...)}, options separated by spaces
 * ({@code @file} argument files allowed). A setting with {@code -XX:NativeMemoryTracking=...} also leaves the
 * sidecar's {@code VM.native_memory summary} under load beside the report.
 */
public final class SidecarMemory {
  private static final String REST_BODY = "{\"inputs\": [[12, 70.35, 844.2]]}";

  private SidecarMemory() {}

  record Setting(String label, String java, List<String> sidecarOpts, Map<String, String> sidecarEnv) {
    static Setting parse(String text) {
      String[] f = text.split("\\|", -1);
      if (f.length != 4) {
        throw new IllegalArgumentException("a setting is label|java|sidecar options|sidecar env: " + text);
      }
      Map<String, String> env = new HashMap<>();
      // the sidecar's own defaults, which ChildProcesses turns off for the other benchmarks
      env.put("GANTRY_WARMUP_MS", "60000");
      env.put("GANTRY_CLUSTER", "embedded");
      for (String kv : f[3].split(",")) {
        if (!kv.isBlank()) {
          env.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        }
      }
      return new Setting(f[0], f[1], Arrays.stream(f[2].trim().split("\\s+")).filter(w -> !w.isEmpty()).toList(),
          env);
    }
  }

  record Run(String label, double readySeconds, long peakMb, long endMb, long threads, long classes,
      double restPerSecond, double grpcPerSecond, long errors, double cpuPer1k) {}

  public static void main(String[] args) throws Exception {
    double seconds = Double.parseDouble(args[0]);
    int rounds = Integer.parseInt(args[1]);
    Path out = Path.of(args[2]);
    List<Setting> settings = Arrays.stream(args).skip(3).map(Setting::parse).toList();
    Path root = Path.of("").toAbsolutePath();
    List<Run> runs = new ArrayList<>();
    try (ChildProcesses processes = new ChildProcesses()) {
      Path repo = SidecarBenchmark.repository(root.resolve("examples/models"),
          processes.temporaryDirectory("gantry-memory-bench"));
      int runnerPort = ChildProcesses.freePort();
      processes.start("event=runner_started", "java", "-Dai.djl.offline=true", "@model-runner/jvm.options", "-jar",
          root.resolve("model-runner/target/model-runner.jar").toString(), "--model-repository", repo.toString(),
          "--grpc-port", Integer.toString(runnerPort), "--metrics-port", "0");
      for (int round = 1; round <= rounds; round++) {
        for (Setting s : settings) {
          Run r = run(processes, root, s, runnerPort, seconds, out);
          runs.add(r);
          System.out.printf(Locale.ROOT, "round %d %s: peak %d MB, end %d MB, %d threads, %d classes, REST %.0f"
              + " req/s, gRPC %.0f req/s, %d errors%n", round, r.label(), r.peakMb(), r.endMb(), r.threads(),
              r.classes(), r.restPerSecond(), r.grpcPerSecond(), r.errors());
        }
      }
    }
    String report = report(runs, seconds, rounds);
    System.out.println(report);
    Files.writeString(out, report);
  }

  static Run run(ChildProcesses processes, Path root, Setting s, int runnerPort, double seconds, Path out)
      throws Exception {
    int port = ChildProcesses.freePort();
    List<String> command = new ArrayList<>(List.of(s.java()));
    command.addAll(s.sidecarOpts());
    command.addAll(List.of("-jar", root.resolve("sidecar-proxy/target/sidecar-proxy.jar").toString(), "--host",
        "127.0.0.1", "--port", Integer.toString(port), "--runner-port", Integer.toString(runnerPort),
        "--default-model", "mlp", "--max-in-flight", "100000"));
    Map<String, String> env = new HashMap<>(s.sidecarEnv());
    env.putIfAbsent("GANTRY_CLUSTER_PORT", Integer.toString(ChildProcesses.freePort()));
    long spawned = System.nanoTime();
    Process side = processes.start(env, "event=sidecar_started", command.toArray(String[]::new));
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    while (!WarmupBenchmark.ready(http, port)) {
      Thread.sleep(50); // polling another process's readiness; nothing to wait on instead
    }
    double readySeconds = (System.nanoTime() - spawned) / 1e9;
    LatencyRecorder.Result rest = null;
    LatencyRecorder.Result grpc = null;
    long errors = 0;
    long ticks0 = 0;
    for (int i = 0; i < 2; i++) {
      ticks0 = ChildProcesses.cpuTicks(side.pid());
      rest = ExternalLoad.wrk(port, "/invocations", REST_BODY, 16, seconds);
      grpc = ExternalLoad.h2load(port, RunnerBenchmark.INFER, RunnerBenchmark.request("mlp").toByteArray(), 4, 4,
          seconds);
      errors += rest.errors() + grpc.errors();
    }
    double cpuSeconds = (ChildProcesses.cpuTicks(side.pid()) - ticks0) / ChildProcesses.TICKS_PER_SECOND;
    double cpuPer1k = cpuSeconds / ((rest.operations() + grpc.operations()) / 1000.0);
    Map<String, Long> status = status(side.pid());
    long classes = classes(s.java(), side.pid());
    if (s.sidecarOpts().stream().anyMatch(o -> o.startsWith("-XX:NativeMemoryTracking="))) {
      Files.writeString(Path.of(out.toString().replaceFirst("\\.md$", "") + "-nmt-"
          + s.label().replaceAll("[^A-Za-z0-9]+", "-") + ".txt"),
          jcmd(s.java(), side.pid(), "VM.native_memory", "summary"));
    }
    processes.stop(side);
    return new Run(s.label(), readySeconds, status.getOrDefault("VmHWM", 0L) / 1024,
        status.getOrDefault("VmRSS", 0L) / 1024, status.getOrDefault("Threads", 0L), classes, rest.opsPerSecond(),
        grpc.opsPerSecond(), errors, cpuPer1k);
  }

  /** The numeric lines of {@code /proc/<pid>/status} (kB for the memory ones). */
  static Map<String, Long> status(long pid) throws IOException {
    Map<String, Long> values = new HashMap<>();
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      String[] f = line.split(":\\s*", 2);
      String number = f.length == 2 ? f[1].split("\\s+")[0] : "";
      if (number.matches("\\d+")) {
        values.put(f[0], Long.parseLong(number));
      }
    }
    return values;
  }

  /** Classes loaded now, from {@code jcmd PerfCounter.print} of the JDK that runs the sidecar; -1 if not known. */
  static long classes(String java, long pid) throws IOException, InterruptedException {
    String out = jcmd(java, pid, "PerfCounter.print");
    long loaded = -1;
    long unloaded = 0;
    for (String line : out.lines().toList()) {
      if (line.startsWith("java.cls.loadedClasses=")) {
        loaded = Long.parseLong(line.substring(line.indexOf('=') + 1));
      } else if (line.startsWith("java.cls.unloadedClasses=")) {
        unloaded = Long.parseLong(line.substring(line.indexOf('=') + 1));
      }
    }
    return loaded < 0 ? -1 : loaded - unloaded;
  }

  /** {@code jcmd} of the JDK that runs the process (or the one on the path), its output. */
  static String jcmd(String java, long pid, String... command) throws IOException, InterruptedException {
    Path jcmd = Path.of(java).resolveSibling("jcmd");
    List<String> line = new ArrayList<>(List.of(Files.isExecutable(jcmd) ? jcmd.toString() : "jcmd",
        Long.toString(pid)));
    line.addAll(List.of(command));
    Process p = new ProcessBuilder(line).redirectErrorStream(true).start();
    String text = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    return text;
  }

  static String report(List<Run> runs, double seconds, int rounds) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "Sidecar memory under load: %d round(s), each setting a fresh sidecar"
        + " after /readyz serving wrk (REST) then h2load (gRPC) %.0f s each, twice; throughput of the second pass;"
        + " %s; %d cores%n%n", rounds, seconds, LocalDate.now(), Runtime.getRuntime().availableProcessors()));
    sb.append("| setting | start to ready s | peak RSS MB | end RSS MB | threads | classes | REST req/s"
        + " | gRPC req/s | errors | CPU s per 1000 req |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Run r : runs) {
      sb.append(String.format(Locale.ROOT, "| %s | %.1f | %d | %d | %d | %d | %.0f | %.0f | %d | %.3f |%n",
          r.label(), r.readySeconds(), r.peakMb(), r.endMb(), r.threads(), r.classes(), r.restPerSecond(),
          r.grpcPerSecond(), r.errors(), r.cpuPer1k()));
    }
    return sb.toString();
  }
}
