package dev.gantry.perf;

import java.io.IOException;
import java.util.List;

/**
 * One measured scenario: what the load generator saw, and what the measured processes spent on it
 * (CPU from /proc, user + system, in cores per 1000 requests per second; resident memory at the end).
 *
 * @param cpuPer1k NaN where no process was measured
 * @param rssMb 0 where no process was measured
 */
record Sample(double perSecond, double p50Micros, double p99Micros, long errors, double cpuPer1k, long rssMb) {

  /** A load run against a running server. */
  @FunctionalInterface
  interface Load {
    LatencyRecorder.Result run() throws Exception;
  }

  /** Runs {@code load} and charges the CPU that {@code measured} spent meanwhile to it. */
  static Sample measure(List<Process> measured, Load load) throws Exception {
    long cpu0 = ChildProcesses.cpuTicks(measured);
    LatencyRecorder.Result r = load.run();
    long cpu1 = ChildProcesses.cpuTicks(measured);
    return of(r, measured.isEmpty() ? -1 : cpu1 - cpu0, measured.isEmpty() ? 0 : ChildProcesses.rssMb(measured));
  }

  /** @param cpuTicks clock ticks spent during {@code r}; negative when nothing was measured */
  static Sample of(LatencyRecorder.Result r, long cpuTicks, long rssMb) {
    double perSecond = r.opsPerSecond();
    double cpuPer1k = cpuTicks < 0 ? Double.NaN
        : (cpuTicks / ChildProcesses.TICKS_PER_SECOND / r.seconds()) / (perSecond / 1000);
    return new Sample(perSecond, r.p50Micros(), r.p99Micros(), r.errors(), cpuPer1k, rssMb);
  }

  /** One line that {@link #parse} reads back (a child JVM's answer). */
  String line() {
    return String.format(java.util.Locale.ROOT, "sample %f %f %f %d %f %d", perSecond, p50Micros, p99Micros, errors,
        cpuPer1k, rssMb);
  }

  static Sample parse(String line) throws IOException {
    String[] f = line.trim().split(" ");
    if (f.length != 7 || !f[0].equals("sample")) {
      throw new IOException("not a sample line: " + line);
    }
    return new Sample(Double.parseDouble(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[3]),
        Long.parseLong(f[4]), Double.parseDouble(f[5]), Long.parseLong(f[6]));
  }
}
