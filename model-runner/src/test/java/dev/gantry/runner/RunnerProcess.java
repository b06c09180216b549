package dev.gantry.runner;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The runner as its own OS process (as deployed), from the test classpath, with its log kept. */
public final class RunnerProcess implements AutoCloseable {
  private static final Pattern STARTED = Pattern.compile("event=runner_started grpc=(\\d+) metrics=(\\d+)");

  private final Process process;
  private final Thread reader;
  private final List<String> log = new CopyOnWriteArrayList<>();
  private final CompletableFuture<int[]> ports = new CompletableFuture<>();

  private RunnerProcess(Process process) {
    this.process = process;
    this.reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          log.add(line);
          Matcher m = STARTED.matcher(line);
          if (m.find()) {
            ports.complete(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))});
          }
        }
      } catch (IOException e) {
        ports.completeExceptionally(e);
      }
      ports.completeExceptionally(new IllegalStateException("runner exited: " + log));
    }, "runner-process-log");
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts RunnerMain with ephemeral ports and {@code args}; returns once it has started. */
  public static RunnerProcess start(String... args) throws Exception {
    return start(List.of(), args);
  }

  /** Starts RunnerMain with these JVM options, ephemeral ports and {@code args}; returns once it has started. */
  public static RunnerProcess start(List<String> jvmOptions, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dai.djl.offline=true"));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.gantry.runner.RunnerMain",
        "--grpc-port", "0", "--metrics-port", "0"));
    command.addAll(List.of(args));
    RunnerProcess runner = new RunnerProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
    runner.ports.get(120, TimeUnit.SECONDS);
    return runner;
  }

  public int grpcPort() {
    return ports.join()[0];
  }

  public int metricsPort() {
    return ports.join()[1];
  }

  /** SIGTERM, as Kubernetes sends it (Process.destroy() would also close our end of its output). */
  public void terminate() {
    process.toHandle().destroy();
  }

  /** Waits for the process to exit; true when it did within the time. */
  public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
    boolean exited = process.waitFor(timeout, unit);
    if (exited) {
      reader.join(10_000);
    }
    return exited;
  }

  public List<String> log() {
    return log;
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }
}
