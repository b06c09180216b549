package dev.gantry.sidecar.runner;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelMetadataRequest;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.proto.inference.ModelReadyRequest;
import dev.gantry.proto.inference.ServerReadyRequest;
import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.SidecarException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The sidecar's link to its model-runner: Open Inference v2 over gRPC on multiplexed HTTP/2
 * loopback connections. Every failure comes back as a {@link SidecarException}: the runner's own
 * status for its answers, UNAVAILABLE naming the cause when the runner cannot be reached.
 * Connections are made again on the next call after the runner comes back.
 */
public final class RunnerConnection {
  private final GrpcClient client;
  private final SocketAddress address;

  public RunnerConnection(Vertx vertx, String host, int port, int maxMessageBytes) {
    requireNonNull(vertx, "vertx");
    this.address = SocketAddress.inetSocketAddress(port, requireNonNull(host, "host"));
    this.client = GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(maxMessageBytes),
        new HttpClientOptions().setProtocolVersion(io.vertx.core.http.HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false)
            .setConnectTimeout(2000));
  }

  public String address() {
    return address.host() + ":" + address.port();
  }

  /** ModelInfer; {@code timeoutMs > 0} is sent on as the call's gRPC deadline. */
  public Future<ModelInferResponse> infer(ModelInferRequest request, long timeoutMs, Map<String, String> metadata) {
    return call(GRPCInferenceServiceGrpcClient.ModelInfer, request, timeoutMs, metadata);
  }

  public Future<ModelMetadataResponse> metadata(String model, String version) {
    return call(GRPCInferenceServiceGrpcClient.ModelMetadata,
        ModelMetadataRequest.newBuilder().setName(model).setVersion(version).build(), 5000, Map.of());
  }

  public Future<Boolean> serverReady(long timeoutMs) {
    return call(GRPCInferenceServiceGrpcClient.ServerReady, ServerReadyRequest.getDefaultInstance(), timeoutMs,
        Map.of()).map(r -> r.getReady());
  }

  /** Names of the models the runner serves now. */
  public Future<java.util.Set<String>> readyModels() {
    return call(GRPCInferenceServiceGrpcClient.RepositoryIndex,
        dev.gantry.proto.inference.RepositoryIndexRequest.newBuilder().setReady(true).build(), 5000, Map.of())
        .map(r -> r.getModelsList().stream().map(m -> m.getName())
            .collect(java.util.stream.Collectors.toUnmodifiableSet()));
  }

  public Future<Boolean> modelReady(String model, String version) {
    return call(GRPCInferenceServiceGrpcClient.ModelReady,
        ModelReadyRequest.newBuilder().setName(model).setVersion(version).build(), 5000, Map.of())
        .map(r -> r.getReady());
  }

  private <Req, Resp> Future<Resp> call(ServiceMethod<Resp, Req> method, Req message, long timeoutMs,
      Map<String, String> metadata) {
    return client.request(address, method)
        .compose(req -> {
          metadata.forEach((k, v) -> req.headers().set(k, v));
          if (timeoutMs > 0) {
            req.timeout(timeoutMs, TimeUnit.MILLISECONDS);
          }
          return req.end(message).compose(v -> req.response());
        })
        .compose(resp -> resp.last().transform(ar -> {
          GrpcStatus status = resp.status();
          if (ar.succeeded() && (status == null || status == GrpcStatus.OK)) {
            return Future.succeededFuture(ar.result());
          }
          if (status == null || status == GrpcStatus.OK) {
            return Future.failedFuture(unreachable(ar.cause()));
          }
          return Future.<Resp>failedFuture(new SidecarException(ErrorKind.fromGrpcCode(status.code),
              resp.statusMessage() == null || resp.statusMessage().isEmpty()
                  ? "model-runner answered " + status : resp.statusMessage()));
        }))
        .recover(e -> Future.failedFuture(e instanceof SidecarException ? e : unreachable(e)));
  }

  private SidecarException unreachable(Throwable cause) {
    String why = cause == null ? "no answer" : cause.getMessage() == null ? cause.getClass().getSimpleName()
        : cause.getMessage();
    return new SidecarException(ErrorKind.UNAVAILABLE, "model-runner at " + address() + " is unreachable: " + why);
  }

  public Future<Void> close() {
    return client.close();
  }
}
