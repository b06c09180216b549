package dev.gantry.runner.grpc;

import dev.gantry.runner.inference.ErrorKind;
import dev.gantry.runner.inference.InferenceException;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerResponse;

/** Maps Gantry's error kinds to gRPC statuses, once. */
public final class GrpcErrors {
  private GrpcErrors() {}

  public static GrpcStatus status(ErrorKind kind) {
    return switch (kind) {
      case INVALID_ARGUMENT -> GrpcStatus.INVALID_ARGUMENT;
      case NOT_FOUND -> GrpcStatus.NOT_FOUND;
      case UNAVAILABLE -> GrpcStatus.UNAVAILABLE;
      case RESOURCE_EXHAUSTED -> GrpcStatus.RESOURCE_EXHAUSTED;
      case DEADLINE_EXCEEDED -> GrpcStatus.DEADLINE_EXCEEDED;
      case INTERNAL -> GrpcStatus.INTERNAL;
    };
  }

  /** Ends the call with the error's status and message. */
  public static void fail(GrpcServerResponse<?, ?> response, Throwable error) {
    InferenceException e = InferenceException.of(error);
    response.status(status(e.kind())).statusMessage(e.getMessage()).end();
  }
}
