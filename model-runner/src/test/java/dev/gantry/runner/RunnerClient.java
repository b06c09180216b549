package dev.gantry.runner;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import java.util.concurrent.TimeUnit;

/** A real gRPC client (Vert.x) for tests, answering with status, message and value. */
public final class RunnerClient implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final GrpcClient client;
  private final SocketAddress address;

  /** What a call ended with. */
  public record Outcome<T>(GrpcStatus status, String message, T value) {
    public T ok() {
      if (status != GrpcStatus.OK) {
        throw new AssertionError("call failed: " + status + " " + message);
      }
      return value;
    }
  }

  public RunnerClient(int port) {
    this.client = GrpcClient.client(vertx);
    this.address = SocketAddress.inetSocketAddress(port, "127.0.0.1");
  }

  public <Req, Resp> Outcome<Resp> call(ServiceMethod<Resp, Req> method, Req message) {
    return call(method, message, 0);
  }

  /** Calls and waits (at most 60 s); {@code timeoutMs > 0} sets a gRPC deadline. */
  public <Req, Resp> Outcome<Resp> call(ServiceMethod<Resp, Req> method, Req message, long timeoutMs) {
    try {
      return callAsync(method, message, timeoutMs).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("gRPC call did not complete: " + e, e);
    }
  }

  public <Req, Resp> Future<Outcome<Resp>> callAsync(ServiceMethod<Resp, Req> method, Req message, long timeoutMs) {
    return client.request(address, method).compose(req -> {
      if (timeoutMs > 0) {
        req.timeout(timeoutMs, TimeUnit.MILLISECONDS);
      }
      return req.end(message).compose(v -> req.response());
    }).compose(resp -> resp.last().transform(ar -> Future.succeededFuture(ar.succeeded()
        ? new Outcome<>(GrpcStatus.OK, "", ar.result())
        : new Outcome<>(resp.status() == null ? GrpcStatus.UNKNOWN : resp.status(),
            String.valueOf(resp.statusMessage()), null))));
  }

  public Vertx vertx() {
    return vertx;
  }

  @Override
  public void close() {
    client.close().await();
    vertx.close().await();
  }
}
