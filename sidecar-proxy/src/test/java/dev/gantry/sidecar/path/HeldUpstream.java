package dev.gantry.sidecar.path;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcService;
import dev.gantry.proto.inference.InferParameter;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.proto.inference.RepositoryIndexResponse;
import dev.gantry.proto.inference.ServerReadyResponse;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A stand-in runner on a real gRPC socket for the sidecar's own behaviour (limits, timeouts,
 * pass-through, reloads): it records what reaches it, answers ModelInfer at once or holds it
 * unanswered while {@code hold} is set, and serves metadata for one model {@code m} whose single
 * 2-D input {@code x} takes the columns of the version it serves now.
 *
 * <p>A stand-in rather than the real runner where the test needs what the real runner cannot be
 * made to do on demand: hold answers, serve a version whose signature differs from the last one,
 * or answer with a datatype no engine produces.
 */
public final class HeldUpstream implements AutoCloseable {
  final Vertx vertx = Vertx.vertx();
  public final List<MultiMap> inferHeaders = new CopyOnWriteArrayList<>();
  public final List<Long> inferTimeouts = new CopyOnWriteArrayList<>();
  public final List<ModelInferRequest> inferRequests = new CopyOnWriteArrayList<>();
  /** ModelInfer streams the client reset before an answer was sent. */
  public final AtomicInteger cancelled = new AtomicInteger();
  /** Connections the stand-in has accepted. */
  public final AtomicInteger connections = new AtomicInteger();
  public volatile boolean hold;
  /** Answers wait this long (a slow model). */
  public volatile long delayMs;
  /** The version served now, and the columns of its one input, in order. */
  public volatile String version = "1";
  public volatile List<String> columns = List.of("a");
  /** Versions still answered besides {@link #version} (a reload's old version before it retires). */
  public volatile List<String> alsoServed = List.of();
  /** The answer to a ModelInfer request; by default one FP32 [1,1] output holding the first input value. */
  public volatile Function<ModelInferRequest, ModelInferResponse> answer = HeldUpstream::echoFirst;
  private final HttpServer server;

  /** A v2 REST body for model {@code m}. */
  public static final String V2_BODY =
      "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,1],\"datatype\":\"FP32\",\"data\":[1]}]}";

  /** A gRPC request for model {@code m}. */
  public static ModelInferRequest request() {
    return ModelInferRequest.newBuilder().setModelName("m").addInputs(ModelInferRequest.InferInputTensor.newBuilder()
        .setName("x").setDatatype("FP32").addShape(1).addShape(1)
        .setContents(InferTensorContents.newBuilder().addFp32Contents(1))).build();
  }

  /** Starts a sidecar in front of this stand-in and waits until it is ready. */
  public dev.gantry.sidecar.Sidecar sidecar(dev.gantry.sidecar.SidecarConfig config) {
    dev.gantry.sidecar.Sidecar sidecar = dev.gantry.sidecar.Sidecar.start(config);
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> sidecar.health().ready());
    return sidecar;
  }

  public HeldUpstream() {
    GrpcServer grpc = GrpcServer.server(vertx);
    grpc.callHandler(GRPCInferenceServiceGrpcService.ServerReady, call -> call.handler(r ->
        call.response().end(ServerReadyResponse.newBuilder().setReady(true).build())));
    grpc.callHandler(GRPCInferenceServiceGrpcService.RepositoryIndex, call -> call.handler(r -> {
      RepositoryIndexResponse.Builder index = RepositoryIndexResponse.newBuilder();
      for (String v : served()) {
        index.addModels(RepositoryIndexResponse.ModelIndex.newBuilder().setName("m").setVersion(v).setState("READY"));
      }
      call.response().end(index.build());
    }));
    grpc.callHandler(GRPCInferenceServiceGrpcService.ModelMetadata, call -> call.handler(r -> {
      if (!r.getName().equals("m")) {
        call.response().status(GrpcStatus.NOT_FOUND).statusMessage("unknown model '" + r.getName() + "'").end();
        return;
      }
      call.response().end(ModelMetadataResponse.newBuilder().setName("m").addAllVersions(served())
          .setPlatform("test")
          .addInputs(ModelMetadataResponse.TensorMetadata.newBuilder().setName("x").setDatatype("FP32")
              .addShape(-1).addShape(columns.size())
              .putParameters("columns", InferParameter.newBuilder().setStringParam(String.join(",", columns)).build()))
          .addOutputs(ModelMetadataResponse.TensorMetadata.newBuilder().setName("y").setDatatype("FP32")
              .addShape(-1).addShape(1))
          .build());
    }));
    grpc.callHandler(GRPCInferenceServiceGrpcService.ModelInfer, call -> {
      call.handler(req -> {
        inferHeaders.add(MultiMap.caseInsensitiveMultiMap().addAll(call.headers()));
        inferTimeouts.add(call.timeout());
        inferRequests.add(req);
        if (hold) {
          return;
        }
        if (!req.getModelVersion().isEmpty() && !served().contains(req.getModelVersion())) {
          call.response().status(GrpcStatus.NOT_FOUND).statusMessage("model 'm' has no version '"
              + req.getModelVersion() + "'").end();
          return;
        }
        ModelInferResponse response = answer.apply(req);
        if (delayMs > 0) {
          vertx.setTimer(delayMs, id -> call.response().end(response));
        } else {
          call.response().end(response);
        }
      });
    });
    server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0)
        .setHttp2ClearTextEnabled(true)).connectionHandler(c -> connections.incrementAndGet()).requestHandler(req -> {
          if (req.path().endsWith("/ModelInfer")) {
            // the stream closed before an answer: the client reset it (a cancellation)
            req.response().closeHandler(v -> {
              if (!req.response().ended()) {
                cancelled.incrementAndGet();
              }
            });
          }
          grpc.handle(req);
        });
    server.listen().await();
  }

  private List<String> served() {
    List<String> all = new java.util.ArrayList<>(alsoServed);
    all.add(version);
    return all;
  }

  private static ModelInferResponse echoFirst(ModelInferRequest req) {
    float first = req.getInputs(0).getContents().getFp32ContentsCount() > 0
        ? req.getInputs(0).getContents().getFp32Contents(0) : 0.5f;
    return ModelInferResponse.newBuilder().setModelName(req.getModelName())
        .setModelVersion(req.getModelVersion().isEmpty() ? "1" : req.getModelVersion())
        .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder().setName("y").setDatatype("FP32")
            .addShape(1).addShape(1).setContents(InferTensorContents.newBuilder().addFp32Contents(first)))
        .build();
  }

  public int port() {
    return server.actualPort();
  }

  @Override
  public void close() {
    vertx.close().await();
  }
}
