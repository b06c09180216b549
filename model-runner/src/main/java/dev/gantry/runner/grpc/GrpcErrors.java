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

  /**
   * Longest grpc-message sent. Messages echo what callers sent (names, versions); unbounded, they
   * could push the trailers past the peer's HTTP/2 header-list limit, and the stream would be reset
   * instead of answered.
   */
  static final int MAX_MESSAGE_CHARS = 1024;

  /** Ends the call with the error's status and message (cut to {@value #MAX_MESSAGE_CHARS} characters). */
  public static void fail(GrpcServerResponse<?, ?> response, Throwable error) {
    InferenceException e = InferenceException.of(error);
    response.status(status(e.kind())).statusMessage(bounded(e.getMessage())).end();
  }

  static String bounded(String message) {
    if (message == null || message.length() <= MAX_MESSAGE_CHARS) {
      return message;
    }
    return message.substring(0, MAX_MESSAGE_CHARS - 3) + "...";
  }
}
