package dev.gantry.runner.grpc;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.inference.ModelInferRequest;
import java.util.Map;

/**
 * A {@code ModelInferRequest} as it came off the wire.
 *
 * @param request the parsed message; the default instance when it could not be parsed
 * @param outOfRange by input index, the first {@code int_contents}/{@code uint_contents} value that
 *     did not fit 32 bits on the wire, as the caller sent it (protobuf parsing truncates it)
 * @param malformed why the bytes are not a ModelInferRequest, or null when they are
 */
public record InferMessage(ModelInferRequest request, Map<Integer, String> outOfRange, String malformed) {
  public InferMessage {
    requireNonNull(request, "request");
    outOfRange = Map.copyOf(outOfRange);
  }

  /** A message built in process, with nothing lost in parsing. */
  public static InferMessage of(ModelInferRequest request) {
    return new InferMessage(request, Map.of(), null);
  }
}
