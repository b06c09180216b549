package dev.gantry.runner.repository;

/**
 * How a model version is warmed up before it is READY: {@code iterations} inferences per
 * instance on a synthetic batch of {@code batchSize} rows (zeros, empty strings).
 */
public record WarmupConfig(int iterations, int batchSize) {
  public static final WarmupConfig DEFAULT = new WarmupConfig(1, 1);
}
