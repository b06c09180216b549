package dev.gantry.runner.inference;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a request against a model's signature before it is queued, so that a bad
 * request fails alone with a message naming the input, what was expected and what came.
 *
 * <p>Decoders call {@link #checkDeclared} for each input as soon as its name, datatype and shape
 * are known, before they allocate anything from the shape; {@link #validate} then checks the
 * decoded request as a whole.
 */
public final class RequestValidator {
  private RequestValidator() {}

  /**
   * Checks one input as the request declares it: a known name, the model's datatype, a shape of
   * the model's form with no negative dimension, a batch no larger than {@code max_batch_size} and
   * an element count that does not overflow.
   *
   * @return the number of elements the shape declares
   * @throws InferenceException INVALID_ARGUMENT naming the input and what is wrong
   */
  public static long checkDeclared(String model, ModelSignature signature, String input, DataType datatype,
      long[] shape) {
    TensorSpec spec = signature.input(input).orElseThrow(() -> InferenceException.invalid("unexpected input '"
        + input + "' for model '" + model + "'; expected inputs: " + signature.inputNames()));
    if (datatype != spec.datatype()) {
      throw InferenceException.invalid("input '" + input + "': expected datatype " + spec.datatype()
          + ", got " + datatype);
    }
    for (long d : shape) {
      if (d < 0) {
        throw InferenceException.invalid("input '" + input + "': shape " + Shapes.format(shape)
            + " has a negative dimension");
      }
    }
    long[] expected = signature.fullShape(spec);
    if (!Shapes.matches(expected, shape)) {
      throw InferenceException.invalid("input '" + input + "': expected shape " + Shapes.format(expected)
          + " (-1 is any size), got " + Shapes.format(shape));
    }
    if (signature.batches() && shape[0] > signature.maxBatchSize()) {
      throw InferenceException.invalid("batch size " + shape[0] + " exceeds max_batch_size "
          + signature.maxBatchSize() + " of model '" + model + "'");
    }
    return Shapes.declaredElementCount(input, shape);
  }

  /**
   * Validates and returns the request with its inputs in the signature's order.
   *
   * @throws InferenceException with {@link ErrorKind#INVALID_ARGUMENT}
   */
  public static InferRequest validate(String model, ModelSignature signature, InferRequest request) {
    Map<String, Tensor> byName = new HashMap<>();
    for (Tensor t : request.inputs()) {
      if (byName.put(t.name(), t) != null) {
        throw InferenceException.invalid("input '" + t.name() + "' is given more than once");
      }
      checkDeclared(model, signature, t.name(), t.datatype(), t.shape());
    }
    List<Tensor> ordered = new ArrayList<>(signature.inputs().size());
    long batch = -1;
    for (TensorSpec spec : signature.inputs()) {
      Tensor t = byName.get(spec.name());
      if (t == null) {
        throw InferenceException.invalid("missing input '" + spec.name() + "' for model '" + model
            + "'; expected inputs: " + signature.inputNames());
      }
      if (signature.batches()) {
        if (batch >= 0 && t.rows() != batch) {
          throw InferenceException.invalid("input '" + t.name() + "' has batch size " + t.rows()
              + " but other inputs have " + batch + "; all inputs must share the first dimension");
        }
        batch = t.rows();
      }
      ordered.add(t);
    }
    if (signature.batches() && batch == 0) {
      throw InferenceException.invalid("batch size is 0; send at least one row");
    }
    for (String out : request.requestedOutputs()) {
      if (signature.output(out).isEmpty()) {
        throw InferenceException.invalid("unknown requested output '" + out + "' for model '" + model
            + "'; outputs: " + signature.outputNames());
      }
    }
    return request.withInputs(ordered);
  }
}
