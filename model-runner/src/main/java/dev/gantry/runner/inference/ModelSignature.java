package dev.gantry.runner.inference;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/**
 * Inputs and outputs of a model version, and whether it batches along the first dimension.
 *
 * @param inputs input tensors in the order the engine takes them
 * @param outputs output tensors in the order the engine gives them
 * @param maxBatchSize 0 when the model does not batch; otherwise the largest batch, and
 *     request shapes are {@code [batch] + dims}
 */
public record ModelSignature(List<TensorSpec> inputs, List<TensorSpec> outputs, int maxBatchSize) {
  public ModelSignature {
    inputs = List.copyOf(requireNonNull(inputs, "inputs"));
    outputs = List.copyOf(requireNonNull(outputs, "outputs"));
  }

  public boolean batches() {
    return maxBatchSize > 0;
  }

  /** The full shape a request must have, -1 for the batch and variable dimensions. */
  public long[] fullShape(TensorSpec spec) {
    return batches() ? Shapes.prepend(-1, spec.dims()) : spec.dims();
  }

  public Optional<TensorSpec> input(String name) {
    return inputs.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  public Optional<TensorSpec> output(String name) {
    return outputs.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  public List<String> inputNames() {
    return inputs.stream().map(TensorSpec::name).toList();
  }

  public List<String> outputNames() {
    return outputs.stream().map(TensorSpec::name).toList();
  }
}
