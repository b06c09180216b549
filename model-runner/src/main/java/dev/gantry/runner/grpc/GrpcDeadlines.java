package dev.gantry.runner.grpc;

import io.vertx.grpc.server.GrpcServerRequest;
import java.util.concurrent.TimeUnit;

/** The deadline a gRPC call carries, as a {@link System#nanoTime()} instant. */
final class GrpcDeadlines {
  private GrpcDeadlines() {}

  /** The call's deadline, or 0 when it has none. */
  static long of(GrpcServerRequest<?, ?> call) {
    long timeoutMs = call.timeout();
    return timeoutMs > 0 ? System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs) : 0;
  }
}
