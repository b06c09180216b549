package dev.gantry.runner.inference;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Set;

/**
 * One inference call as the runner sees it, whatever protocol it came in by.
 *
 * @param id caller's request id, echoed in the response ("" when none)
 * @param inputs input tensors
 * @param requestedOutputs names of the outputs wanted; empty means all
 * @param deadlineNanos {@link System#nanoTime()} after which the answer is useless; 0 for none
 */
public record InferRequest(String id, List<Tensor> inputs, Set<String> requestedOutputs, long deadlineNanos) {
  public InferRequest {
    requireNonNull(id, "id");
    inputs = List.copyOf(requireNonNull(inputs, "inputs"));
    requestedOutputs = Set.copyOf(requireNonNull(requestedOutputs, "requestedOutputs"));
  }

  public boolean hasDeadline() {
    return deadlineNanos != 0;
  }

  /** Rows along the first dimension (the batch size when the model batches). */
  public long rows() {
    return inputs.isEmpty() ? 0 : inputs.get(0).rows();
  }

  public long inputBytes() {
    long n = 0;
    for (Tensor t : inputs) {
      n += t.byteSize();
    }
    return n;
  }

  /** The same request with its inputs put in the given order. */
  public InferRequest withInputs(List<Tensor> ordered) {
    return new InferRequest(id, ordered, requestedOutputs, deadlineNanos);
  }
}
