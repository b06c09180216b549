package dev.gantry.sidecar.path;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcService;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.proto.inference.RepositoryIndexResponse;
import dev.gantry.proto.inference.ServerReadyResponse;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.grpc.server.GrpcServer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in runner on a real gRPC socket for the sidecar's own behaviour (limits, timeouts,
 * pass-through): it records what reaches it, answers ModelInfer at once or holds it unanswered
 * while {@code hold} is set, and serves enough metadata for the REST adapters.
 */
final class HeldUpstream implements AutoCloseable {
  final Vertx vertx = Vertx.vertx();
  final List<MultiMap> inferHeaders = new CopyOnWriteArrayList<>();
  final List<Long> inferTimeouts = new CopyOnWriteArrayList<>();
  volatile boolean hold;
  private final HttpServer server;

  HeldUpstream() {
    GrpcServer grpc = GrpcServer.server(vertx);
    grpc.callHandler(GRPCInferenceServiceGrpcService.ServerReady, call -> call.handler(r ->
        call.response().end(ServerReadyResponse.newBuilder().setReady(true).build())));
    grpc.callHandler(GRPCInferenceServiceGrpcService.RepositoryIndex, call -> call.handler(r ->
        call.response().end(RepositoryIndexResponse.newBuilder().addModels(RepositoryIndexResponse.ModelIndex
            .newBuilder().setName("m").setVersion("1").setState("READY")).build())));
    grpc.callHandler(GRPCInferenceServiceGrpcService.ModelMetadata, call -> call.handler(r ->
        call.response().end(ModelMetadataResponse.newBuilder().setName("m").addVersions("1").setPlatform("test")
            .addInputs(ModelMetadataResponse.TensorMetadata.newBuilder().setName("x").setDatatype("FP32")
                .addShape(-1).addShape(1))
            .addOutputs(ModelMetadataResponse.TensorMetadata.newBuilder().setName("y").setDatatype("FP32")
                .addShape(-1).addShape(1))
            .build())));
    grpc.callHandler(GRPCInferenceServiceGrpcService.ModelInfer, call -> call.handler(req -> {
      inferHeaders.add(MultiMap.caseInsensitiveMultiMap().addAll(call.headers()));
      inferTimeouts.add(call.timeout());
      if (hold) {
        return;
      }
      call.response().end(ModelInferResponse.newBuilder().setModelName(req.getModelName()).setModelVersion("1")
          .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder().setName("y").setDatatype("FP32")
              .addShape(1).addShape(1).setContents(InferTensorContents.newBuilder().addFp32Contents(0.5f)))
          .build());
    }));
    server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0)
        .setHttp2ClearTextEnabled(true)).requestHandler(grpc);
    server.listen().await();
  }

  int port() {
    return server.actualPort();
  }

  @Override
  public void close() {
    vertx.close().await();
  }
}
