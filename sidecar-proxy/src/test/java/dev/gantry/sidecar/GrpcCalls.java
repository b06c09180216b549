package dev.gantry.sidecar;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A real gRPC client for tests: status, message, response headers and value of each call. */
public final class GrpcCalls implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final GrpcClient client = GrpcClient.client(vertx);
  private final SocketAddress address;

  /** What a call ended with. */
  public record Outcome<T>(GrpcStatus status, String message, Map<String, String> headers, T value) {}

  public GrpcCalls(int port) {
    this.address = SocketAddress.inetSocketAddress(port, "127.0.0.1");
  }

  /** Calls and waits; {@code timeoutMs > 0} sets a deadline; {@code metadata} is key, value, … */
  public <Req, Resp> Outcome<Resp> call(ServiceMethod<Resp, Req> method, Req message, long timeoutMs,
      String... metadata) {
    try {
      return callAsync(method, message, timeoutMs, metadata).toCompletionStage().toCompletableFuture()
          .get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("gRPC call did not complete: " + e, e);
    }
  }

  public <Req, Resp> Future<Outcome<Resp>> callAsync(ServiceMethod<Resp, Req> method, Req message, long timeoutMs,
      String... metadata) {
    return client.request(address, method).compose(req -> {
      for (int i = 0; i + 1 < metadata.length; i += 2) {
        req.headers().set(metadata[i], metadata[i + 1]);
      }
      if (timeoutMs > 0) {
        req.timeout(timeoutMs, TimeUnit.MILLISECONDS);
      }
      return req.end(message).compose(v -> req.response());
    }).compose(resp -> resp.last().transform(ar -> Future.succeededFuture(new Outcome<>(
        ar.succeeded() ? GrpcStatus.OK : resp.status() == null ? GrpcStatus.UNKNOWN : resp.status(),
        String.valueOf(resp.statusMessage()), headers(resp.headers()), ar.succeeded() ? ar.result() : null))));
  }

  private static Map<String, String> headers(MultiMap m) {
    Map<String, String> out = new HashMap<>();
    m.forEach(e -> out.put(e.getKey().toLowerCase(java.util.Locale.ROOT), e.getValue()));
    return out;
  }

  @Override
  public void close() {
    client.close().await();
    vertx.close().await();
  }
}
