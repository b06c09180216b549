package dev.gantry.runner.repository;

import java.util.List;

/**
 * The {@code dynamic_batching} section of a model config.
 *
 * @param maxQueueDelayMicros longest a request waits for others to join its batch
 * @param preferredBatchSizes batch sizes to dispatch at once when reached (largest one)
 *     or to cut to when the delay ends
 * @param maxQueueSize requests that may wait; beyond it callers get RESOURCE_EXHAUSTED
 */
public record BatchingConfig(long maxQueueDelayMicros, List<Integer> preferredBatchSizes, int maxQueueSize) {
  public static final int DEFAULT_MAX_QUEUE_SIZE = 1024;
  public static final long DEFAULT_MAX_QUEUE_DELAY_MICROS = 1000;

  public BatchingConfig {
    preferredBatchSizes = List.copyOf(preferredBatchSizes);
  }
}
