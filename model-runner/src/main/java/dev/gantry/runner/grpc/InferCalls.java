package dev.gantry.runner.grpc;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelStreamInferResponse;
import dev.gantry.runner.inference.Cancellation;
import dev.gantry.runner.inference.InferResult;
import dev.gantry.runner.inference.InferenceException;
import dev.gantry.runner.lifecycle.ModelManager;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.grpc.server.GrpcServerRequest;
import java.util.concurrent.CompletableFuture;

/**
 * ModelInfer and ModelStreamInfer. Handlers run on the event loop: they look the model up, decode
 * against its signature, hand the request to its batcher and answer on the call's own context.
 * A call the client cancels (or whose connection goes) cancels its requests, which leave the queue.
 */
final class InferCalls {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(InferCalls.class);
  private final ModelManager models;

  InferCalls(ModelManager models) {
    this.models = requireNonNull(models, "models");
  }

  void unary(GrpcServerRequest<InferMessage, ModelInferResponse> call) {
    long deadline = GrpcDeadlines.of(call);
    CompletableFuture<?>[] running = new CompletableFuture<?>[1];
    Runnable cancel = () -> {
      if (running[0] != null) {
        running[0].cancel(false);
      }
    };
    call.errorHandler(error -> cancel.run());
    call.exceptionHandler(error -> cancel.run());
    call.handler(req -> {
      Context context = Vertx.currentContext();
      CompletableFuture<ModelInferResponse> answer = infer(req, deadline);
      running[0] = answer;
      answer.whenComplete((resp, e) -> context.runOnContext(x -> {
        if (answer.isCancelled()) {
          return;
        }
        try {
          if (e != null) {
            GrpcErrors.fail(call.response(), e);
          } else {
            call.response().end(resp);
          }
        } catch (RuntimeException gone) {
          // the caller reset the stream after the answer was computed and before it was written (Vert.x throws
          // "The stream is failed: CANCELLED"): there is no one left to answer
          LOG.debug("event=grpc_answer_dropped reason=\"{}\"", gone.toString());
        }
      }));
    });
  }

  void stream(GrpcServerRequest<InferMessage, ModelStreamInferResponse> call) {
    long deadline = GrpcDeadlines.of(call);
    new StreamInferCall(call, message -> infer(message, deadline)).start();
  }

  /**
   * Looks the model up, then decodes the request against its signature and runs it. Nothing is
   * decoded for a model that is not served. Cancelling the result cancels the request.
   */
  private CompletableFuture<ModelInferResponse> infer(InferMessage message, long deadline) {
    if (message.malformed() != null) {
      return CompletableFuture.failedFuture(InferenceException.invalid(message.malformed()));
    }
    ModelInferRequest req = message.request();
    boolean raw = ProtoTensors.wantsRaw(req);
    CompletableFuture<InferResult> result = models.infer(req.getModelName(), req.getModelVersion(),
        (model, signature) -> ProtoTensors.decode(message, model, signature, deadline));
    return Cancellation.propagate(result.thenApply(r -> ProtoTensors.encode(r, req.getId(), raw)), result);
  }
}
