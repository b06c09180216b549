package dev.gantry.sidecar;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** A Gantry process (runner or sidecar) started from the test classpath, as it runs when deployed. */
public final class JavaProcess implements AutoCloseable {
  private final Process process;
  private final List<String> log = new CopyOnWriteArrayList<>();

  private JavaProcess(Process process, String readyMarker) throws Exception {
    this.process = process;
    CompletableFuture<Void> ready = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          log.add(line);
          if (line.contains(readyMarker)) {
            ready.complete(null);
          }
        }
      } catch (IOException e) {
        ready.completeExceptionally(e);
      }
      ready.completeExceptionally(new IllegalStateException("process exited before '" + readyMarker + "': " + log));
    }, "process-log");
    reader.setDaemon(true);
    reader.start();
    ready.get(120, TimeUnit.SECONDS);
  }

  /** Starts {@code mainClass} with {@code args}; returns once a log line contains {@code readyMarker}. */
  public static JavaProcess start(String mainClass, String readyMarker, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dai.djl.offline=true", "-Xmx512m", "-cp", System.getProperty("java.class.path"), mainClass));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    // sidecars are ready without warming up unless a test asks for it (--warmup-ms): tests start many, on 2 cores
    builder.environment().putIfAbsent("GANTRY_WARMUP_MS", "0");
    return new JavaProcess(builder.start(), readyMarker);
  }

  public static JavaProcess runner(int grpcPort, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("--model-repository", Stack.examples().toString(),
        "--grpc-port", Integer.toString(grpcPort), "--metrics-port", "0"));
    args.addAll(List.of(extra));
    return start("dev.gantry.runner.RunnerMain", "event=runner_started", args.toArray(String[]::new));
  }

  /**
   * A sidecar process that is a member of {@code cluster} (its Hazelcast member on {@code clusterPort}, the others at
   * {@code members}), on loopback data and admin ports, with the admin token; {@code extra} flags last.
   */
  public static JavaProcess clusterSidecar(int data, int admin, int runnerPort, String token, String cluster,
      int clusterPort, String members, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("--host", "127.0.0.1", "--port", Integer.toString(data),
        "--runner-port", Integer.toString(runnerPort), "--admin-host", "127.0.0.1", "--admin-port",
        Integer.toString(admin), "--admin-token", token, "--cluster-name", cluster, "--cluster-port",
        Integer.toString(clusterPort), "--cluster-members", members));
    args.addAll(List.of(extra));
    return start("dev.gantry.sidecar.SidecarMain", "event=sidecar_started", args.toArray(String[]::new));
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  public List<String> log() {
    return log;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public long pid() {
    return process.pid();
  }

  /** SIGKILL: the process dies at once, as on an OOM kill or a node failure. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGSTOP (true) or SIGCONT (false): a process that stops answering without dying, as in a network partition. */
  public void freeze(boolean stop) throws Exception {
    new ProcessBuilder("kill", stop ? "-STOP" : "-CONT", Long.toString(process.pid())).start().waitFor();
  }

  /** SIGTERM and wait; true when it exited within the time. */
  public boolean terminate() throws Exception {
    new ProcessBuilder("kill", "-TERM", Long.toString(process.pid())).start().waitFor();
    return process.waitFor(60, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
