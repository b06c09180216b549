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

  /** One variant's counter; its methods may be called from any thread. */
  public static final class Counter {
    private VariantTally tally = VariantTally.EMPTY;

    public synchronized void exposed() {
      tally = new VariantTally(tally.exposures() + 1, tally.successes(), tally.errors(), tally.latencyMs(),
          tally.latencyBuckets(), tally.reward());
    }

    public synchronized void succeeded(double latencyMs) {
      long[] buckets = tally.latencyBuckets();
      int i = 0;
      while (i < VariantTally.LATENCY_BOUNDS_MS.length && latencyMs > VariantTally.LATENCY_BOUNDS_MS[i]) {
        i++;
      }
      buckets[i]++;
      tally = new VariantTally(tally.exposures(), tally.successes() + 1, tally.errors(),
          tally.latencyMs().add(latencyMs), buckets, tally.reward());
    }

    public synchronized void failed() {
      tally = new VariantTally(tally.exposures(), tally.successes(), tally.errors() + 1, tally.latencyMs(),
          tally.latencyBuckets(), tally.reward());
    }

    public synchronized void rewarded(double reward) {
      tally = new VariantTally(tally.exposures(), tally.successes(), tally.errors(), tally.latencyMs(),
          tally.latencyBuckets(), tally.reward().add(reward));
    }

    synchronized VariantTally tally() {
      return tally;
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
