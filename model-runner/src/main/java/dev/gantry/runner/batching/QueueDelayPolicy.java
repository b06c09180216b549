package dev.gantry.runner.batching;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * When a free worker whose batch is not yet full waits up to the max queue delay for more
 * requests ({@code dynamic_batching.queue_delay_policy} in a model's config).
 */
public enum QueueDelayPolicy {
  /**
   * Wait only while another instance of the same model version is running a batch. A worker
   * whose fellow workers are all idle dispatches what is queued at once, so batching costs a lone
   * request nothing; under load requests gather while the instances are busy, and the delay lets a
   * free instance collect more of them. With one instance the delay is never waited. The default.
   */
  WHEN_BUSY("when_busy"),
  /**
   * Always wait up to the delay, counted from when the oldest request was queued, unless a batch
   * of {@link BatchPolicy#dispatchRows()} rows is ready sooner: a lone request waits the whole delay.
   */
  ALWAYS("always");

  private final String configName;

  QueueDelayPolicy(String configName) {
    this.configName = configName;
  }

  /** Name used in {@code config.yaml}. */
  public String configName() {
    return configName;
  }

  /** The policy with this config name, if any. */
  public static Optional<QueueDelayPolicy> parse(String name) {
    return Arrays.stream(values()).filter(p -> p.configName.equals(name)).findFirst();
  }

  /** Every config name, in declaration order. */
  public static List<String> configNames() {
    return Arrays.stream(values()).map(QueueDelayPolicy::configName).toList();
  }
}
