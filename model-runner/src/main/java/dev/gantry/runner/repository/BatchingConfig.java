package dev.gantry.runner.repository;

import static java.util.Objects.requireNonNull;

import dev.gantry.runner.batching.QueueDelayPolicy;
import java.util.List;

/**
 * The {@code dynamic_batching} section of a model config.
 *
 * @param maxQueueDelayMicros longest a request waits for others to join its batch, when
 *     {@code queueDelayPolicy} lets it wait
 * @param preferredBatchSizes batch sizes to dispatch at once when reached (largest one)
 *     or to cut to when the delay ends
 * @param maxQueueSize requests that may wait; beyond it callers get RESOURCE_EXHAUSTED
 * @param queueDelayPolicy {@code queue_delay_policy}: wait for more requests only while another
 *     instance is busy ({@code when_busy}, the default) or whenever a batch is short ({@code always})
 */
public record BatchingConfig(long maxQueueDelayMicros, List<Integer> preferredBatchSizes, int maxQueueSize,
    QueueDelayPolicy queueDelayPolicy) {
  public static final int DEFAULT_MAX_QUEUE_SIZE = 1024;
  public static final long DEFAULT_MAX_QUEUE_DELAY_MICROS = 1000;
  public static final QueueDelayPolicy DEFAULT_QUEUE_DELAY_POLICY = QueueDelayPolicy.WHEN_BUSY;

  public BatchingConfig {
    preferredBatchSizes = List.copyOf(preferredBatchSizes);
    requireNonNull(queueDelayPolicy, "queueDelayPolicy");
  }
}
