package dev.gantry.runner.inference;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * What a model expects of one input or gives as one output.
 *
 * @param name tensor name
 * @param datatype element type
 * @param dims dimensions, -1 for variable; without the batch dimension when the model batches
 * @param parameters extra facts published in model metadata (for example MLflow column order)
 */
public record TensorSpec(String name, DataType datatype, long[] dims, Map<String, String> parameters) {
  public TensorSpec {
    requireNonNull(name, "name");
    requireNonNull(datatype, "datatype");
    dims = requireNonNull(dims, "dims").clone();
    parameters = Map.copyOf(parameters);
  }

  public TensorSpec(String name, DataType datatype, long[] dims) {
    this(name, datatype, dims, Map.of());
  }

  @Override
  public long[] dims() {
    return dims.clone();
  }

  @Override
  public String toString() {
    return name + " " + datatype + " " + Shapes.format(dims);
  }
}
