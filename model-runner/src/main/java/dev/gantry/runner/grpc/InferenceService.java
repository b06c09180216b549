package dev.gantry.runner.grpc;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcService;
import dev.gantry.proto.inference.InferParameter;
import dev.gantry.proto.inference.ModelMetadataRequest;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.proto.inference.ModelReadyResponse;
import dev.gantry.proto.inference.ModelRepositoryParameter;
import dev.gantry.proto.inference.RepositoryModelLoadRequest;
import dev.gantry.proto.inference.RepositoryIndexResponse;
import dev.gantry.proto.inference.RepositoryModelLoadResponse;
import dev.gantry.proto.inference.RepositoryModelUnloadResponse;
import dev.gantry.proto.inference.ServerLiveResponse;
import dev.gantry.proto.inference.ServerMetadataResponse;
import dev.gantry.proto.inference.ServerReadyResponse;
import dev.gantry.runner.inference.InferenceException;
import dev.gantry.runner.inference.ModelSignature;
import dev.gantry.runner.inference.TensorSpec;
import dev.gantry.runner.lifecycle.IndexEntry;
import dev.gantry.runner.lifecycle.ModelManager;
import dev.gantry.runner.lifecycle.ServedVersion;
import dev.gantry.runner.source.AliasWatcher;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.grpc.server.GrpcServer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * {@code inference.GRPCInferenceService} on a Vert.x gRPC server. Handlers run on the event
 * loop and only decode, hand off and answer: inference runs on the batcher's worker threads,
 * loads on the loader thread, and answers come back to the call's own context.
 */
public final class InferenceService {
  static final String SERVER_NAME = "gantry-model-runner";
  /** The protocol extension this server implements beyond the core. */
  static final String MODEL_REPOSITORY = "model_repository";
  /** RepositoryModelLoad's parameter that promotes a model's candidate version. */
  public static final String PROMOTE = "promote_version";
  /** RepositoryModelLoad's parameter that rejects (unloads) a model's candidate version. */
  public static final String REJECT = "reject_version";
  /** RepositoryModelLoad's parameter that makes a model serve a given registry version instead of its own. */
  public static final String SERVE = "serve_version";
  /** With {@link #SERVE}: the version served until then was rejected, and is not loaded again. */
  public static final String REFUSE_CURRENT = "refuse_current";

  private final ModelManager models;
  private final String serverVersion;
  private final InferCalls calls;
  private final Optional<AliasWatcher> watcher;

  public InferenceService(ModelManager models, String serverVersion) {
    this(models, serverVersion, Optional.empty());
  }

  /**
   * @param watcher follows the models named by URI; its candidates are promoted and rejected through
   *     RepositoryModelLoad's {@code promote_version} and {@code reject_version} parameters
   */
  public InferenceService(ModelManager models, String serverVersion, Optional<AliasWatcher> watcher) {
    this.models = requireNonNull(models, "models");
    this.serverVersion = requireNonNull(serverVersion, "serverVersion");
    this.calls = new InferCalls(models);
    this.watcher = requireNonNull(watcher, "watcher");
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
    server.callHandler(InferMethods.MODEL_INFER, calls::unary);
    server.callHandler(InferMethods.MODEL_STREAM_INFER, calls::stream);
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
      CompletableFuture<?> done;
      try {
        done = decision(req).orElseGet(() -> models.load(req.getModelName()));
      } catch (RuntimeException e) {
        GrpcErrors.fail(call.response(), e);
        return;
      }
      done.whenComplete((v, e) -> context.runOnContext(x -> {
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

  /**
   * A rollout's decision about a candidate, when the load request carries one: {@code promote_version} makes the
   * candidate the model's current version, {@code reject_version} unloads it ({@code reason} says why).
   */
  private Optional<CompletableFuture<?>> decision(RepositoryModelLoadRequest req) {
    Map<String, ModelRepositoryParameter> p = req.getParametersMap();
    List<String> given = java.util.stream.Stream.of(PROMOTE, REJECT, SERVE).filter(p::containsKey).toList();
    if (given.isEmpty()) {
      return Optional.empty();
    }
    String name = req.getModelName();
    if (given.size() > 1) {
      throw InferenceException.invalid("give one of " + PROMOTE + ", " + REJECT + " and " + SERVE + ", not "
          + String.join(" and ", given));
    }
    String key = given.get(0);
    if (watcher.isEmpty() || !watcher.get().follows(name) || !watcher.get().onNewVersion(name).equals("rollout")) {
      throw InferenceException.notFound("model '" + name + "' is not named by a model URI watched with"
          + " on_new_version: rollout, so it has no candidate to " + (key.equals(PROMOTE) ? "promote"
          : key.equals(REJECT) ? "reject" : "replace its version with"));
    }
    long version = versionParameter(p.get(key), key);
    ModelRepositoryParameter reason = p.get("reason");
    String why = reason == null || reason.getStringParam().isBlank() ? "through the model repository API"
        : reason.getStringParam();
    return Optional.of(switch (key) {
      case PROMOTE -> watcher.get().promote(name, version);
      case REJECT -> watcher.get().reject(name, version, why);
      default -> watcher.get().pin(name, version, p.containsKey(REFUSE_CURRENT)
          && p.get(REFUSE_CURRENT).getBoolParam(), why);
    });
  }

  private static long versionParameter(ModelRepositoryParameter p, String key) {
    if (p.hasInt64Param()) {
      return p.getInt64Param();
    }
    try {
      return Long.parseLong(p.getStringParam().trim());
    } catch (NumberFormatException e) {
      throw InferenceException.invalid(key + " must be a version number, got '" + p.getStringParam() + "'");
    }
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
    // where a model named by URI comes from, and why its last move to a new version failed (the old one serves)
    models.repository().source(v.model()).ifPresent(src -> b
        .putParameters("source_uri", InferParameter.newBuilder().setStringParam(src.uri()).build())
        .putParameters("source_version", InferParameter.newBuilder().setInt64Param(src.version()).build()));
    // a candidate shows once it serves (it is named while it still loads): a rollout must not start before that
    models.repository().candidate(v.model())
        .filter(c -> models.served(v.model()).stream().anyMatch(s -> s.version() == c.version() && s.canServe()))
        .ifPresent(c -> b
        .putParameters("candidate_version", InferParameter.newBuilder().setInt64Param(c.version()).build()));
    watcher.filter(w -> w.follows(v.model())).ifPresent(w -> b.putParameters("on_new_version",
        InferParameter.newBuilder().setStringParam(w.onNewVersion(v.model())).build()));
    models.repository().updateFailure(v.model()).ifPresent(why -> b
        .putParameters("update_failure", InferParameter.newBuilder().setStringParam(why).build()));
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
}
