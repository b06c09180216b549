package dev.gantry.runner.repository;

import static java.util.Objects.requireNonNull;

import dev.gantry.runner.inference.TensorSpec;
import java.util.List;
import java.util.Optional;

/**
 * One model's configuration, parsed and validated once.
 *
 * @param name model name (the folder name)
 * @param platform engine
 * @param maxBatchSize 0: no batch dimension; otherwise the largest batch along the first dimension
 * @param inputs declared inputs; empty to read them from the model file (ONNX)
 * @param outputs declared outputs; empty to read them from the model file (ONNX)
 * @param dynamicBatching present when requests are merged into batches
 * @param maxQueueSize queue bound when dynamic batching is off
 * @param instanceCount model instances that run batches in parallel
 * @param device where the model runs
 * @param warmup warm-up before READY
 * @param versionPolicy which versions are served
 * @param signatureColumns the columns of an MLflow column-based signature, in order, for a model whose file
 *     describes its own tensors (ONNX): a single 2-D input takes them stacked in this order; empty otherwise
 * @param pyfuncDataFrame an MLflow ONNX model: MLflow's pyfunc answers a DataFrame with a DataFrame, one column per
 *     output (published as the outputs' {@code pyfunc: column} parameter)
 */
public record ModelConfig(
    String name,
    Platform platform,
    int maxBatchSize,
    List<TensorSpec> inputs,
    List<TensorSpec> outputs,
    Optional<BatchingConfig> dynamicBatching,
    int maxQueueSize,
    int instanceCount,
    DeviceSpec device,
    WarmupConfig warmup,
    VersionPolicy versionPolicy,
    List<String> signatureColumns,
    boolean pyfuncDataFrame) {

  public ModelConfig {
    requireNonNull(name, "name");
    requireNonNull(platform, "platform");
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    requireNonNull(dynamicBatching, "dynamicBatching");
    requireNonNull(device, "device");
    requireNonNull(warmup, "warmup");
    requireNonNull(versionPolicy, "versionPolicy");
    signatureColumns = List.copyOf(signatureColumns);
  }

  /** The same config on another device (the runner's {@code --device} override). */
  public ModelConfig withDevice(DeviceSpec newDevice) {
    return new ModelConfig(name, platform, maxBatchSize, inputs, outputs, dynamicBatching, maxQueueSize,
        instanceCount, newDevice, warmup, versionPolicy, signatureColumns, pyfuncDataFrame);
  }

  /** The same config with other tensors (filled in from an MLflow signature). */
  public ModelConfig withTensors(List<TensorSpec> newInputs, List<TensorSpec> newOutputs, int newMaxBatchSize) {
    return new ModelConfig(name, platform, newMaxBatchSize, newInputs, newOutputs, dynamicBatching, maxQueueSize,
        instanceCount, device, warmup, versionPolicy, signatureColumns, pyfuncDataFrame);
  }

  /** The same config with the columns of an MLflow column-based signature. */
  public ModelConfig withSignatureColumns(List<String> columns) {
    return new ModelConfig(name, platform, maxBatchSize, inputs, outputs, dynamicBatching, maxQueueSize,
        instanceCount, device, warmup, versionPolicy, columns, pyfuncDataFrame);
  }

  /** The same config, marked (or not) as an MLflow model whose pyfunc answers DataFrames with DataFrames. */
  public ModelConfig withPyfuncDataFrame(boolean dataFrame) {
    return new ModelConfig(name, platform, maxBatchSize, inputs, outputs, dynamicBatching, maxQueueSize,
        instanceCount, device, warmup, versionPolicy, signatureColumns, dataFrame);
  }
}
