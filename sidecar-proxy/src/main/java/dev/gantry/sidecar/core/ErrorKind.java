package dev.gantry.sidecar.core;

/**
 * The kinds of failure a call through the sidecar can end in, each with its HTTP status and
 * gRPC status code. Adapters render them in their protocol's own error shape.
 */
public enum ErrorKind {
  INVALID_ARGUMENT(400, 3),
  NOT_FOUND(404, 5),
  PAYLOAD_TOO_LARGE(413, 8),
  UNSUPPORTED_MEDIA_TYPE(415, 3),
  RESOURCE_EXHAUSTED(429, 8),
  INTERNAL(500, 13),
  UNAVAILABLE(503, 14),
  DEADLINE_EXCEEDED(504, 4),
  /** The client went away before it was answered (nginx's 499; gRPC CANCELLED). */
  CANCELLED(499, 1);

  private final int httpStatus;
  private final int grpcCode;

  ErrorKind(int httpStatus, int grpcCode) {
    this.httpStatus = httpStatus;
    this.grpcCode = grpcCode;
  }

  public int httpStatus() {
    return httpStatus;
  }

  public int grpcCode() {
    return grpcCode;
  }

  /** The kind for a gRPC status code the runner answered with. */
  public static ErrorKind fromGrpcCode(int code) {
    return switch (code) {
      case 3, 9, 11 -> INVALID_ARGUMENT;
      case 5 -> NOT_FOUND;
      case 8 -> RESOURCE_EXHAUSTED;
      case 4 -> DEADLINE_EXCEEDED;
      case 1 -> CANCELLED;
      case 14 -> UNAVAILABLE;
      default -> INTERNAL;
    };
  }
}
