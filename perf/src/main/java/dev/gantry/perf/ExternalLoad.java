package dev.gantry.perf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Load generators we did not write, run as processes: {@code h2load} (nghttp2) for gRPC over
 * HTTP/2 and {@code wrk} for REST over HTTP/1.1. Both are closed loops (a fixed number of requests
 * in flight), so they measure saturation.
 */
final class ExternalLoad {
  private static final Pattern FINISHED = Pattern.compile("finished in ([0-9.]+)(ms|s),");
  private static final Pattern REQUESTS = Pattern.compile("requests: (\\d+) total, \\d+ started, (\\d+) done, "
      + "(\\d+) succeeded");
  private static final Pattern DATA = Pattern.compile("\\((\\d+)\\) data");

  private ExternalLoad() {}

  /**
   * h2load sending one unary gRPC call over and over, {@code connections × streams} in flight.
   * h2load does not read gRPC trailers, so a call counts as answered only if its bytes are there:
   * a trial call first tells how many response bytes one answer has, and calls short of that count
   * as errors (a gRPC error is a trailers-only answer with no data).
   */
  static LatencyRecorder.Result h2load(int port, String method, byte[] message, int connections, int streams,
      double seconds) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("gantry-h2load");
    Path body = dir.resolve("body");
    Files.write(body, ByteBuffer.allocate(5 + message.length).put((byte) 0).putInt(message.length).put(message)
        .array());
    String url = "http://127.0.0.1:" + port + method;
    List<String> base = List.of("h2load", "-H", "content-type: application/grpc", "-H", "te: trailers", "-d",
        body.toString());
    String trial = run(concat(base, "-n", "1", "-c", "1", url));
    long bytesPerAnswer = number(DATA, trial, 1);
    Path log = dir.resolve("log");
    String out = run(concat(base, "-D", Long.toString(Math.max(1, Math.round(seconds))), "-c",
        Integer.toString(connections), "-m", Integer.toString(streams), "--log-file=" + log, url));
    Matcher finished = find(FINISHED, out);
    double took = Double.parseDouble(finished.group(1)) / (finished.group(2).equals("ms") ? 1000 : 1);
    long done = number(REQUESTS, out, 2);
    long succeeded = number(REQUESTS, out, 3);
    long answered = bytesPerAnswer == 0 ? 0 : Math.min(succeeded, number(DATA, out, 1) / bytesPerAnswer);
    LatencyRecorder rec = new LatencyRecorder();
    for (String line : Files.readAllLines(log)) {
      String[] f = line.split("\t");
      if (f.length == 3 && f[1].equals("200")) {
        rec.recordMicros(Long.parseLong(f[2]));
      }
    }
    Directories.deleteAll(dir);
    return rec.result(answered, took, done - answered);
  }

  /** wrk posting one JSON body over and over on {@code connections} keep-alive HTTP/1.1 connections, one thread. */
  static LatencyRecorder.Result wrk(int port, String path, String json, int connections, double seconds)
      throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("gantry-wrk");
    Path script = dir.resolve("post.lua");
    Files.writeString(script, String.join("\n",
        "wrk.method = \"POST\"",
        "wrk.body = [==[" + json + "]==]",
        "wrk.headers[\"Content-Type\"] = \"application/json\"",
        "done = function(s, latency, requests)",
        "  io.write(string.format(\"gantry-wrk %d %d %d %d %d %d %d %d %d\\n\", s.requests, s.duration,",
        "    s.errors.status, s.errors.connect, s.errors.read, s.errors.write, s.errors.timeout,",
        "    latency:percentile(50), latency:percentile(99)))",
        "end", ""), StandardCharsets.UTF_8);
    String out = run(List.of("wrk", "-t1", "-c" + connections, "-d" + Math.max(1, Math.round(seconds)) + "s",
        "-s", script.toString(), "http://127.0.0.1:" + port + path));
    Directories.deleteAll(dir);
    String line = out.lines().filter(l -> l.startsWith("gantry-wrk ")).findFirst()
        .orElseThrow(() -> new IOException("wrk printed no summary:\n" + out));
    String[] f = line.split(" ");
    long requests = Long.parseLong(f[1]);
    double took = Long.parseLong(f[2]) / 1e6;
    long badStatus = Long.parseLong(f[3]);
    long socketErrors = Long.parseLong(f[4]) + Long.parseLong(f[5]) + Long.parseLong(f[6]) + Long.parseLong(f[7]);
    long ok = requests - badStatus;
    return new LatencyRecorder.Result(ok, took, Double.parseDouble(f[8]), Double.parseDouble(f[9]),
        badStatus + socketErrors);
  }

  private static String run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", command) + " exited " + p.exitValue() + ":\n" + out);
    }
    return out;
  }

  private static List<String> concat(List<String> a, String... b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(List.of(b));
    return all;
  }

  private static Matcher find(Pattern p, String out) throws IOException {
    Matcher m = p.matcher(out);
    if (!m.find()) {
      throw new IOException("no '" + p + "' in:\n" + out);
    }
    return m;
  }

  private static long number(Pattern p, String out, int group) throws IOException {
    return Long.parseLong(find(p, out).group(group));
  }
}
