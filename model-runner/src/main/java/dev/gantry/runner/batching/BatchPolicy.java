package dev.gantry.runner.batching;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * How a {@link DynamicBatcher} forms batches.
 *
 * @param merge true to merge requests into batches (dynamic batching on)
 * @param maxBatchSize most rows in one batch (0 when the model has no batch dimension)
 * @param maxQueueDelayNanos longest the oldest queued request waits for others, when
 *     {@code queueDelayPolicy} lets it wait at all
 * @param preferredBatchSizes sizes to cut batches to; the largest one dispatches at once
 * @param maxQueueSize most waiting requests; more are refused with RESOURCE_EXHAUSTED
 * @param queueDelayPolicy when a free worker waits for more requests: only while another instance
 *     is busy ({@link QueueDelayPolicy#WHEN_BUSY}, the default) or always
 */
public record BatchPolicy(boolean merge, int maxBatchSize, long maxQueueDelayNanos,
    List<Integer> preferredBatchSizes, int maxQueueSize, QueueDelayPolicy queueDelayPolicy) {
  public BatchPolicy {
    preferredBatchSizes = List.copyOf(preferredBatchSizes);
    requireNonNull(queueDelayPolicy, "queueDelayPolicy");
    if (maxQueueSize < 1) {
      throw new IllegalArgumentException("maxQueueSize must be at least 1");
    }
  }

  /** A policy that waits for more requests only while another instance is busy (the default). */
  public BatchPolicy(boolean merge, int maxBatchSize, long maxQueueDelayNanos, List<Integer> preferredBatchSizes,
      int maxQueueSize) {
    this(merge, maxBatchSize, maxQueueDelayNanos, preferredBatchSizes, maxQueueSize, QueueDelayPolicy.WHEN_BUSY);
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
