package dev.gantry.runner.inference;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a request against a model's signature before it is queued, so that a bad
 * request fails alone with a message naming the input, what was expected and what came.
 */
public final class RequestValidator {
  private RequestValidator() {}

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
      if (signature.input(t.name()).isEmpty()) {
        throw InferenceException.invalid("unexpected input '" + t.name() + "' for model '" + model
            + "'; expected inputs: " + signature.inputNames());
      }
    }
    List<Tensor> ordered = new ArrayList<>(signature.inputs().size());
    long batch = -1;
    for (TensorSpec spec : signature.inputs()) {
      Tensor t = byName.get(spec.name());
      if (t == null) {
        throw InferenceException.invalid("missing input '" + spec.name() + "' for model '" + model
            + "'; expected inputs: " + signature.inputNames());
      }
      checkOne(spec, signature, t);
      if (signature.batches()) {
        if (batch >= 0 && t.rows() != batch) {
          throw InferenceException.invalid("input '" + t.name() + "' has batch size " + t.rows()
              + " but other inputs have " + batch + "; all inputs must share the first dimension");
        }
        batch = t.rows();
      }
      ordered.add(t);
    }
    if (signature.batches() && batch > signature.maxBatchSize()) {
      throw InferenceException.invalid("batch size " + batch + " exceeds max_batch_size "
          + signature.maxBatchSize() + " of model '" + model + "'");
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

  private static void checkOne(TensorSpec spec, ModelSignature signature, Tensor t) {
    if (t.datatype() != spec.datatype()) {
      throw InferenceException.invalid("input '" + t.name() + "': expected datatype " + spec.datatype()
          + ", got " + t.datatype());
    }
    long[] expected = signature.fullShape(spec);
    long[] actual = t.shape();
    for (long d : actual) {
      if (d < 0) {
        throw InferenceException.invalid("input '" + t.name() + "': shape " + Shapes.format(actual)
            + " has a negative dimension");
      }
    }
    if (!Shapes.matches(expected, actual)) {
      throw InferenceException.invalid("input '" + t.name() + "': expected shape " + Shapes.format(expected)
          + " (-1 is any size), got " + Shapes.format(actual));
    }
    long want = Shapes.elementCount(actual);
    long held = t.heldElements();
    if (held != want) {
      if (t.datatype().isBytes()) {
        throw InferenceException.invalid("input '" + t.name() + "': shape " + Shapes.format(actual)
            + " needs " + want + " BYTES elements, got " + held);
      }
      throw InferenceException.invalid("input '" + t.name() + "': shape " + Shapes.format(actual) + " "
          + t.datatype() + " needs " + want * t.datatype().byteSize() + " bytes (" + want
          + " elements), got " + t.byteSize() + " bytes");
    }
  }
}
