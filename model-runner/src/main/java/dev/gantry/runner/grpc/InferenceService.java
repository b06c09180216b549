package dev.gantry.runner.grpc;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcService;
import dev.gantry.proto.inference.InferParameter;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelMetadataRequest;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.proto.inference.ModelReadyResponse;
import dev.gantry.proto.inference.ModelStreamInferResponse;
import dev.gantry.proto.inference.RepositoryIndexResponse;
import dev.gantry.proto.inference.RepositoryModelLoadResponse;
import dev.gantry.proto.inference.RepositoryModelUnloadResponse;
import dev.gantry.proto.inference.ServerLiveResponse;
import dev.gantry.proto.inference.ServerMetadataResponse;
import dev.gantry.proto.inference.ServerReadyResponse;
import dev.gantry.runner.inference.Cancellation;
import dev.gantry.runner.inference.InferResult;
import dev.gantry.runner.inference.InferenceException;
import dev.gantry.runner.inference.ModelSignature;
import dev.gantry.runner.inference.TensorSpec;
import dev.gantry.runner.lifecycle.IndexEntry;
import dev.gantry.runner.lifecycle.ModelManager;
import dev.gantry.runner.lifecycle.ServedVersion;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code inference.GRPCInferenceService} on a Vert.x gRPC server. Handlers run on the event
 * loop and only decode, hand off and answer: inference runs on the batcher's worker threads,
 * loads on the loader thread, and answers come back to the call's own context.
 */
public final class InferenceService {
  static final String SERVER_NAME = "gantry-model-runner";
  /** The protocol extension this server implements beyond the core. */
  static final String MODEL_REPOSITORY = "model_repository";

  private final ModelManager models;
  private final String serverVersion;

  public InferenceService(ModelManager models, String serverVersion) {
    this.models = requireNonNull(models, "models");
    this.serverVersion = requireNonNull(serverVersion, "serverVersion");
  }

  /** Registers every method on the server. */
  public void bind(GrpcServer server) {
    server.callHandler(GRPCInferenceServiceGrpcService.ServerLive, call -> call.handler(
        req -> call.response().end(ServerLiveResponse.newBuilder().setLive(true).build())));
    server.callHandler(GRPCInferenceServiceGrpcService.ServerReady, call -> call.handler(
        req -> call.response().end(ServerReadyResponse.newBuilder().setReady(models.ready()).build())));
    server.callHandler(GRPCInferenceServiceGrpcService.ModelReady, call -> call.handler(
        req -> call.response().end(ModelReadyResponse.newBuilder()
            .setReady(models.modelReady(req.getName(), req.getVersion())).build())));
    server.callHandler(GRPCInferenceServiceGrpcService.ServerMetadata, call -> call.handler(
        req -> call.response().end(ServerMetadataResponse.newBuilder()
            .setName(SERVER_NAME).setVersion(serverVersion).addExtensions(MODEL_REPOSITORY).build())));
    server.callHandler(GRPCInferenceServiceGrpcService.ModelMetadata, call -> call.handler(req -> {
      try {
        call.response().end(metadata(req));
      } catch (RuntimeException e) {
        GrpcErrors.fail(call.response(), e);
      }
    }));
    server.callHandler(InferMethods.MODEL_INFER, this::modelInfer);
    server.callHandler(InferMethods.MODEL_STREAM_INFER, this::modelStreamInfer);
    server.callHandler(GRPCInferenceServiceGrpcService.RepositoryIndex, call -> call.handler(req ->
        // listing the repository reads the disk: off the event loop
        Vertx.currentContext().owner().executeBlocking(() -> {
          RepositoryIndexResponse.Builder index = RepositoryIndexResponse.newBuilder();
          for (IndexEntry e : models.index(req.getReady())) {
            index.addModels(RepositoryIndexResponse.ModelIndex.newBuilder().setName(e.name())
                .setVersion(e.version()).setState(e.state().name()).setReason(e.reason()));
          }
          return index.build();
        }, false).onComplete(ar -> {
          if (ar.succeeded()) {
            call.response().end(ar.result());
          } else {
            GrpcErrors.fail(call.response(), ar.cause());
          }
        })));
    server.callHandler(GRPCInferenceServiceGrpcService.RepositoryModelLoad, call -> call.handler(req -> {
      Context context = Vertx.currentContext();
      models.load(req.getModelName()).whenComplete((v, e) -> context.runOnContext(x -> {
        if (e != null) {
          GrpcErrors.fail(call.response(), e);
        } else {
          call.response().end(RepositoryModelLoadResponse.getDefaultInstance());
        }
      }));
    }));
    server.callHandler(GRPCInferenceServiceGrpcService.RepositoryModelUnload, call -> call.handler(req -> {
      Context context = Vertx.currentContext();
      models.unload(req.getModelName()).whenComplete((v, e) -> context.runOnContext(x -> {
        if (e != null) {
          GrpcErrors.fail(call.response(), e);
        } else {
          call.response().end(RepositoryModelUnloadResponse.getDefaultInstance());
        }
      }));
    }));
  }

  private ModelMetadataResponse metadata(ModelMetadataRequest req) {
    ServedVersion v = models.resolve(req.getName(), req.getVersion());
    ModelSignature sig = v.signature();
    ModelMetadataResponse.Builder b = ModelMetadataResponse.newBuilder()
        .setName(v.model())
        .setPlatform(v.loaded().platform().metadataName())
        .putParameters("max_batch_size", InferParameter.newBuilder().setInt64Param(sig.maxBatchSize()).build());
    for (ServedVersion s : models.served(req.getName())) {
      b.addVersions(Long.toString(s.version()));
    }
    for (TensorSpec spec : sig.inputs()) {
      b.addInputs(tensorMetadata(sig, spec));
    }
    for (TensorSpec spec : sig.outputs()) {
      b.addOutputs(tensorMetadata(sig, spec));
    }
    return b.build();
  }

  private static ModelMetadataResponse.TensorMetadata tensorMetadata(ModelSignature sig, TensorSpec spec) {
    ModelMetadataResponse.TensorMetadata.Builder t = ModelMetadataResponse.TensorMetadata.newBuilder()
        .setName(spec.name())
        .setDatatype(spec.datatype().name());
    for (long d : sig.fullShape(spec)) {
      t.addShape(d);
    }
    for (Map.Entry<String, String> p : spec.parameters().entrySet()) {
      t.putParameters(p.getKey(), InferParameter.newBuilder().setStringParam(p.getValue()).build());
    }
    return t.build();
  }

  private void modelInfer(GrpcServerRequest<InferMessage, dev.gantry.proto.inference.ModelInferResponse> call) {
    long deadline = deadlineOf(call);
    call.handler(req -> {
      Context context = Vertx.currentContext();
      GrpcServerResponse<InferMessage, dev.gantry.proto.inference.ModelInferResponse> response = call.response();
      infer(req, deadline).whenComplete((resp, e) -> context.runOnContext(x -> {
        if (e != null) {
          GrpcErrors.fail(response, e);
        } else {
          response.end(resp);
        }
      }));
    });
  }

  /**
   * Looks the model up, then decodes the request against its signature and runs it. Nothing is
   * decoded for a model that is not served.
   */
  private CompletableFuture<dev.gantry.proto.inference.ModelInferResponse> infer(InferMessage message,
      long deadline) {
    if (message.malformed() != null) {
      return CompletableFuture.failedFuture(InferenceException.invalid(message.malformed()));
    }
    ModelInferRequest req = message.request();
    boolean raw = ProtoTensors.wantsRaw(req);
    CompletableFuture<InferResult> result = models.infer(req.getModelName(), req.getModelVersion(),
        (model, signature) -> ProtoTensors.decode(message, model, signature, deadline));
    return Cancellation.propagate(result.thenApply(r -> ProtoTensors.encode(r, req.getId(), raw)), result);
  }

  /** One response per request, in completion order; the stream ends after the last one. */
  private void modelStreamInfer(GrpcServerRequest<InferMessage, ModelStreamInferResponse> call) {
    Context context = Vertx.currentContext();
    long deadline = deadlineOf(call);
    AtomicInteger pending = new AtomicInteger(1);
    AtomicBoolean ended = new AtomicBoolean();
    Runnable finishOne = () -> {
      if (pending.decrementAndGet() == 0 && ended.compareAndSet(false, true)) {
        call.response().end();
      }
    };
    call.handler(req -> {
      pending.incrementAndGet();
      infer(req, deadline).whenComplete((resp, e) -> context.runOnContext(x -> {
        ModelStreamInferResponse.Builder out = ModelStreamInferResponse.newBuilder();
        if (e != null) {
          InferenceException ie = InferenceException.of(e);
          out.setErrorMessage(ie.kind() + ": " + ie.getMessage());
        } else {
          out.setInferResponse(resp);
        }
        if (!ended.get()) {
          call.response().write(out.build());
        }
        finishOne.run();
      }));
    });
    call.endHandler(v -> finishOne.run());
    call.exceptionHandler(e -> ended.set(true));
  }

  private static long deadlineOf(GrpcServerRequest<?, ?> call) {
    long timeoutMs = call.timeout();
    return timeoutMs > 0 ? System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs) : 0;
  }
}
