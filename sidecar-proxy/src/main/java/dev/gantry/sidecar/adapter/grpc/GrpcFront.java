package dev.gantry.sidecar.adapter.grpc;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.health.HealthCheckResponse;
import dev.gantry.proto.health.HealthGrpcService;
import dev.gantry.proto.inference.GRPCInferenceServiceGrpcService;
import dev.gantry.proto.inference.ModelReadyResponse;
import dev.gantry.proto.inference.ServerLiveResponse;
import dev.gantry.proto.inference.ServerMetadataResponse;
import dev.gantry.proto.inference.ServerReadyResponse;
import dev.gantry.sidecar.adapter.AdapterContext;
import dev.gantry.sidecar.adapter.HttpSupport;
import dev.gantry.sidecar.core.InferenceCall;
import dev.gantry.sidecar.core.SidecarException;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerResponse;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The Open Inference gRPC API in front of the runner, and {@code grpc.health.v1.Health}.
 * ModelInfer goes through the request path; the deadline and the caller's metadata (trace
 * context, {@code x-request-id}, custom keys) go on to the runner; {@code x-request-id} comes back
 * in the response headers.
 */
public final class GrpcFront {
  static final String PROTOCOL = "grpc";
  /** Metadata that belongs to this hop, not to the call. */
  private static final Set<String> HOP_HEADERS = Set.of("content-type", "te", "user-agent", "host",
      "content-length", "accept-encoding", "connection", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding");

  private final AdapterContext ctx;

  public GrpcFront(AdapterContext ctx) {
    this.ctx = requireNonNull(ctx, "ctx");
  }

  public void bind(GrpcServer server) {
    server.callHandler(GRPCInferenceServiceGrpcService.ModelInfer, call -> call.handler(req -> {
      Map<String, String> metadata = metadata(call.headers());
      String id = metadata.computeIfAbsent(HttpSupport.REQUEST_ID, k -> UUID.randomUUID().toString());
      call.response().headers().set(HttpSupport.REQUEST_ID, id);
      InferenceCall inference = new InferenceCall(PROTOCOL, req, id, Math.max(0, call.timeout()), metadata,
          req.getSerializedSize());
      answer(call.response(), ctx.path().infer(inference));
    }));
    server.callHandler(GRPCInferenceServiceGrpcService.ModelMetadata, call -> call.handler(req ->
        answer(call.response(), ctx.catalog().metadata(req.getName(), req.getVersion()))));
    server.callHandler(GRPCInferenceServiceGrpcService.ModelReady, call -> call.handler(req ->
        answer(call.response(), ctx.runner().modelReady(req.getName(), req.getVersion())
            .map(r -> ModelReadyResponse.newBuilder().setReady(r).build()))));
    server.callHandler(GRPCInferenceServiceGrpcService.ServerLive, call -> call.handler(req ->
        answer(call.response(), ctx.runner().serverReady(5000)
            .map(r -> ServerLiveResponse.newBuilder().setLive(true).build()))));
    server.callHandler(GRPCInferenceServiceGrpcService.ServerReady, call -> call.handler(req ->
        answer(call.response(), ctx.runner().serverReady(5000)
            .map(r -> ServerReadyResponse.newBuilder().setReady(r).build()))));
    server.callHandler(GRPCInferenceServiceGrpcService.ServerMetadata, call -> call.handler(req ->
        call.response().end(ServerMetadataResponse.newBuilder().setName("gantry").setVersion(ctx.serverVersion())
            .build())));
    server.callHandler(HealthGrpcService.Check, call -> call.handler(req -> {
      String service = req.getService();
      if (!service.isEmpty() && !service.equals(GRPCInferenceServiceGrpcService.SERVICE_NAME.fullyQualifiedName())) {
        call.response().status(GrpcStatus.NOT_FOUND).statusMessage("unknown service '" + service + "'").end();
        return;
      }
      call.response().end(HealthCheckResponse.newBuilder().setStatus(ctx.health().ready()
          ? HealthCheckResponse.ServingStatus.SERVING : HealthCheckResponse.ServingStatus.NOT_SERVING).build());
    }));
  }

  private static Map<String, String> metadata(MultiMap headers) {
    Map<String, String> out = new HashMap<>();
    headers.forEach(e -> {
      String key = e.getKey().toLowerCase(Locale.ROOT);
      if (!key.startsWith(":") && !HOP_HEADERS.contains(key)) {
        out.put(key, e.getValue());
      }
    });
    return out;
  }

  private static <T> void answer(GrpcServerResponse<?, T> response, Future<T> result) {
    result.onComplete(ar -> {
      if (ar.succeeded()) {
        response.end(ar.result());
      } else {
        SidecarException e = SidecarException.of(ar.cause());
        response.status(GrpcStatus.valueOf(e.kind().grpcCode())).statusMessage(e.getMessage()).end();
      }
    });
  }

}
