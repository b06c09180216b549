package dev.gantry.perf;

import org.HdrHistogram.Recorder;

/** Latencies (in microseconds) and counts of one scenario, and how to print them. */
final class LatencyRecorder {
  private final Recorder recorder = new Recorder(3);

  void record(long nanos) {
    recorder.recordValue(Math.max(1, nanos / 1000));
  }

  /** One finished scenario. */
  record Result(String name, long operations, long rows, double seconds, double p50Micros, double p99Micros,
      long errors) {
    double opsPerSecond() {
      return operations / seconds;
    }

    double rowsPerSecond() {
      return rows / seconds;
    }

    String row() {
      return String.format("| %-44s | %10.0f | %10.0f | %9.0f | %9.0f | %6d |", name, opsPerSecond(),
          rowsPerSecond(), p50Micros, p99Micros, errors);
    }
  }

  Result result(String name, long operations, long rows, double seconds, long errors) {
    var h = recorder.getIntervalHistogram();
    return new Result(name, operations, rows, seconds, h.getValueAtPercentile(50), h.getValueAtPercentile(99),
        errors);
  }

  static String header() {
    return "| scenario                                     |  calls/s   |   rows/s   |  p50 µs   |  p99 µs   | errors |\n"
        + "|----------------------------------------------|-----------:|-----------:|----------:|----------:|-------:|";
  }
}
