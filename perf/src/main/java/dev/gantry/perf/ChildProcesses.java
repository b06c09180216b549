package dev.gantry.perf;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The servers a benchmark starts (runner, sidecar, nginx), each its own process, all stopped on
 * {@link #close()} and their temporary directories deleted; and what /proc says they spent.
 */
final class ChildProcesses implements AutoCloseable {
  static final double TICKS_PER_SECOND = 100.0;

  private final List<Process> processes = new ArrayList<>();
  private final List<Path> directories = new ArrayList<>();

  /** A temporary directory that {@link #close()} deletes. */
  Path temporaryDirectory(String prefix) throws IOException {
    Path dir = Files.createTempDirectory(prefix);
    directories.add(dir);
    return dir;
  }

  /** A runner from {@code build}'s jar on {@code grpcPort}, serving {@code repository}; returns once it has started. */
  Process runner(Build build, Path repository, int grpcPort) throws IOException {
    return start("event=runner_started", "java", "-Dai.djl.offline=true", "-Xmx1g", "-jar",
        build.runnerJar().toString(), "--model-repository", repository.toString(), "--grpc-port",
        Integer.toString(grpcPort), "--metrics-port", "0");
  }

  /** A sidecar from {@code build}'s jar (2 event loops on 2 cores); the same flags for every build. */
  Process sidecar(Build build, String heap, int port, int runnerPort) throws IOException {
    // -Dgantry.bench.sidecarJava: another JVM for the sidecar (e.g. JDK 25); the heap may be an @argument file
    return start("event=sidecar_started", System.getProperty("gantry.bench.sidecarJava", "java"), heap, "-jar",
        build.sidecarJar().toString(), "--host", "127.0.0.1",
        "--port", Integer.toString(port), "--runner-port", Integer.toString(runnerPort), "--max-in-flight", "100000");
  }

  /** Debian's nginx as an HTTP/2 gRPC proxy ({@code grpc_pass}, upstream keep-alive) in front of a runner. */
  Process nginx(int port, int runnerPort) throws IOException, InterruptedException {
    Path dir = temporaryDirectory("gantry-nginx");
    Files.createDirectories(dir.resolve("logs"));
    Files.writeString(dir.resolve("nginx.conf"), String.join("\n",
        "worker_processes 2;", "pid " + dir.resolve("nginx.pid") + ";", "error_log stderr warn;",
        "events { worker_connections 4096; }",
        // nginx closes a client connection (HTTP/2 included) and an upstream one after 1000 requests
        // by default; a load generator that does not reconnect then counts the rest as failures
        "http {", "  access_log off;", "  keepalive_requests 1000000;",
        "  client_body_temp_path " + dir + "/body;", "  proxy_temp_path " + dir + "/proxy;",
        "  fastcgi_temp_path " + dir + "/fcgi;", "  uwsgi_temp_path " + dir + "/uwsgi;",
        "  scgi_temp_path " + dir + "/scgi;",
        "  upstream runner { server 127.0.0.1:" + runnerPort + "; keepalive 16; keepalive_requests 1000000; }",
        "  server {", "    listen 127.0.0.1:" + port + " http2;",
        "    location / { grpc_pass grpc://runner; }", "  }", "}", ""));
    Process nginx = new ProcessBuilder("nginx", "-p", dir.toString(), "-c", dir.resolve("nginx.conf").toString(),
        "-g", "daemon off;").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    processes.add(nginx);
    awaitPort(port);
    return nginx;
  }

  /** Starts {@code command} and returns once it has printed {@code marker}; its output is drained after that. */
  Process start(String marker, String... command) throws IOException {
    return start(java.util.Map.of(), marker, command);
  }

  /** {@link #start(String, String...)} with more environment variables. */
  Process start(java.util.Map<String, String> env, String marker, String... command) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    // sidecars alone, admin API on an ephemeral port: builds that predate these settings ignore the variables
    builder.environment().put("GANTRY_CLUSTER", "off");
    builder.environment().put("GANTRY_ADMIN_PORT", "0");
    // benchmarks warm up explicitly, the same for every build: no sidecar warm-up before readiness unless asked
    builder.environment().put("GANTRY_WARMUP_MS", "0");
    builder.environment().putAll(env);
    Process p = builder.start();
    processes.add(p);
    BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()));
    for (String line; (line = r.readLine()) != null; ) {
      if (line.contains(marker)) {
        Thread drain = new Thread(() -> {
          try {
            while (r.readLine() != null) {
              // keep the pipe empty
            }
          } catch (IOException e) {
            // process ended
          }
        });
        drain.setDaemon(true);
        drain.start();
        return p;
      }
    }
    throw new IllegalStateException("process ended before '" + marker + "': " + String.join(" ", command));
  }

  /** Stops one process (and its children) now. */
  void stop(Process p) throws InterruptedException {
    p.descendants().forEach(ProcessHandle::destroy);
    p.destroy();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
    }
    processes.remove(p);
  }

  @Override
  public void close() throws InterruptedException, IOException {
    for (Process p : List.copyOf(processes)) {
      stop(p);
    }
    for (Path dir : directories) {
      Directories.deleteAll(dir);
    }
  }

  /** User + system clock ticks of the processes and their descendants so far. */
  static long cpuTicks(List<Process> measured) throws IOException {
    long total = 0;
    for (long pid : pids(measured)) {
      total += cpuTicks(pid);
    }
    return total;
  }

  static long cpuTicks(long pid) throws IOException {
    Path stat = Path.of("/proc", Long.toString(pid), "stat");
    if (!Files.exists(stat)) {
      return 0;
    }
    String s = Files.readString(stat);
    String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  /** Resident memory of the processes and their descendants, in MiB. */
  static long rssMb(List<Process> measured) throws IOException {
    long kb = 0;
    for (long pid : pids(measured)) {
      kb += rssKb(pid);
    }
    return kb / 1024;
  }

  static long rssKb(long pid) throws IOException {
    Path status = Path.of("/proc", Long.toString(pid), "status");
    if (Files.exists(status)) {
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    }
    return 0;
  }

  private static List<Long> pids(List<Process> processes) {
    List<Long> pids = new ArrayList<>();
    for (Process p : processes) {
      pids.add(p.pid());
      p.descendants().forEach(h -> pids.add(h.pid()));
    }
    return pids;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void awaitPort(int port) throws InterruptedException {
    for (int i = 0; i < 100; i++) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        return;
      } catch (IOException e) {
        Thread.sleep(100); // polling a port another process opens; nothing to wait on instead
      }
    }
    throw new IllegalStateException("nothing listens on " + port);
  }
}
