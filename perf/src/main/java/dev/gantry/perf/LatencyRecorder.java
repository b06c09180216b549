package dev.gantry.perf;

import org.HdrHistogram.Recorder;

/** Latencies (in microseconds) of one scenario. */
final class LatencyRecorder {
  private final Recorder recorder = new Recorder(3);

  void record(long nanos) {
    recordMicros(nanos / 1000);
  }

  void recordMicros(long micros) {
    recorder.recordValue(Math.max(1, micros));
  }

  /** One finished scenario: answered calls, failed calls, and the latency of the answered ones. */
  record Result(long operations, double seconds, double p50Micros, double p99Micros, long errors) {
    double opsPerSecond() {
      return operations / seconds;
    }
  }

  /** What was recorded since the last call, as one scenario's result. */
  Result result(long operations, double seconds, long errors) {
    var h = recorder.getIntervalHistogram();
    return new Result(operations, seconds, h.getValueAtPercentile(50), h.getValueAtPercentile(99), errors);
  }
}
