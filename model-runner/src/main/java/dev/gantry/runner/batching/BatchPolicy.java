package dev.gantry.runner.batching;

import java.util.List;

/**
 * How a {@link DynamicBatcher} forms batches.
 *
 * @param merge true to merge requests into batches (dynamic batching on)
 * @param maxBatchSize most rows in one batch (0 when the model has no batch dimension)
 * @param maxQueueDelayNanos longest the oldest queued request waits for others
 * @param preferredBatchSizes sizes to cut batches to; the largest one dispatches at once
 * @param maxQueueSize most waiting requests; more are refused with RESOURCE_EXHAUSTED
 */
public record BatchPolicy(boolean merge, int maxBatchSize, long maxQueueDelayNanos,
    List<Integer> preferredBatchSizes, int maxQueueSize) {
  public BatchPolicy {
    preferredBatchSizes = List.copyOf(preferredBatchSizes);
    if (maxQueueSize < 1) {
      throw new IllegalArgumentException("maxQueueSize must be at least 1");
    }
  }

  /** One request per run, no merging. */
  public static BatchPolicy unbatched(int maxQueueSize) {
    return new BatchPolicy(false, 0, 0, List.of(), maxQueueSize);
  }

  /** Rows at which a batch is dispatched without waiting any longer. */
  int dispatchRows() {
    if (!merge) {
      return 1;
    }
    return preferredBatchSizes.isEmpty() ? maxBatchSize
        : Math.min(maxBatchSize, preferredBatchSizes.get(preferredBatchSizes.size() - 1));
  }
}
