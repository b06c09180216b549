package dev.gantry.sidecar.experiment;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This member's running counts, per experiment (by id) and variant. Event loops add to them; the flusher copies
 * them to cluster state, where every member's counts are kept under its own key and summed for results.
 */
public final class ExperimentCounts {
  private final Map<String, Map<String, Counter>> counts = new ConcurrentHashMap<>();

  /**
   * One variant's counter; its methods may be called from any thread. Events only add to primitive fields (no
   * allocation on the request path); {@link #tally()} copies them into an immutable {@link VariantTally}.
   */
  public static final class Counter {
    private long exposures;
    private long successes;
    private long errors;
    private long latencyN;
    private double latencySum;
    private double latencySumOfSquares;
    private final long[] latencyBuckets = new long[VariantTally.LATENCY_BOUNDS_MS.length + 1];
    private long rewardN;
    private double rewardSum;
    private double rewardSumOfSquares;

    public synchronized void exposed() {
      exposures++;
    }

    public synchronized void succeeded(double latencyMs) {
      latencyBuckets[VariantTally.bucketOf(latencyMs)]++;
      successes++;
      latencyN++;
      latencySum += latencyMs;
      latencySumOfSquares += latencyMs * latencyMs;
    }

    public synchronized void failed() {
      errors++;
    }

    public synchronized void rewarded(double reward) {
      rewardN++;
      rewardSum += reward;
      rewardSumOfSquares += reward * reward;
    }

    synchronized VariantTally tally() {
      return new VariantTally(exposures, successes, errors, new Summary(latencyN, latencySum, latencySumOfSquares),
          latencyBuckets, new Summary(rewardN, rewardSum, rewardSumOfSquares));
    }
  }

  /** The counter of a variant in an experiment. */
  public Counter of(String experimentId, String variant) {
    return counts.computeIfAbsent(experimentId, k -> new ConcurrentHashMap<>())
        .computeIfAbsent(variant, k -> new Counter());
  }

  /** What this member counted, by experiment id and variant. */
  public Map<String, Map<String, VariantTally>> snapshot() {
    Map<String, Map<String, VariantTally>> out = new HashMap<>();
    counts.forEach((id, variants) -> {
      Map<String, VariantTally> v = new HashMap<>();
      variants.forEach((name, counter) -> v.put(name, counter.tally()));
      out.put(id, v);
    });
    return out;
  }
}
