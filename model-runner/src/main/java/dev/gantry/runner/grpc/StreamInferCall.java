package dev.gantry.runner.grpc;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelStreamInferResponse;
import dev.gantry.runner.inference.InferenceException;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.grpc.server.GrpcServerRequest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * One ModelStreamInfer call: one response per request, in completion order; the stream ends after
 * the last one. It reads requests only while fewer than {@link #MAX_OUTSTANDING} are unanswered
 * and the response's write queue has room, and resumes when either drains, so a client that
 * sends faster than the model answers, or reads slower, is held back instead of filling the
 * queue and the heap. When the client cancels or goes away, what is outstanding is cancelled.
 * Every method runs on the call's event loop.
 */
final class StreamInferCall {
  /** Most requests of one stream being answered at once. */
  static final int MAX_OUTSTANDING = 32;

  private final GrpcServerRequest<InferMessage, ModelStreamInferResponse> call;
  private final Function<InferMessage, CompletableFuture<ModelInferResponse>> infer;
  private final Context context;
  private final Set<CompletableFuture<ModelInferResponse>> outstanding = new HashSet<>();
  private boolean requestsEnded;
  private boolean gone;
  private boolean ended;
  private boolean paused;

  StreamInferCall(GrpcServerRequest<InferMessage, ModelStreamInferResponse> call,
      Function<InferMessage, CompletableFuture<ModelInferResponse>> infer) {
    this.call = requireNonNull(call, "call");
    this.infer = requireNonNull(infer, "infer");
    this.context = Vertx.currentContext();
  }

  void start() {
    call.handler(this::received);
    call.endHandler(v -> {
      requestsEnded = true;
      endIfDone();
    });
    call.errorHandler(error -> clientGone());
    call.exceptionHandler(error -> clientGone());
    call.response().exceptionHandler(error -> clientGone());
    call.response().drainHandler(v -> flow());
  }

  private void received(InferMessage message) {
    if (gone) {
      return;
    }
    CompletableFuture<ModelInferResponse> answer = infer.apply(message);
    outstanding.add(answer);
    flow();
    answer.whenComplete((resp, e) -> context.runOnContext(x -> answered(answer, resp, e)));
  }

  private void answered(CompletableFuture<ModelInferResponse> answer, ModelInferResponse resp, Throwable e) {
    if (!outstanding.remove(answer) || gone) {
      return;
    }
    ModelStreamInferResponse.Builder out = ModelStreamInferResponse.newBuilder();
    if (e != null) {
      InferenceException ie = InferenceException.of(e);
      out.setErrorMessage(ie.kind() + ": " + ie.getMessage());
    } else {
      out.setInferResponse(resp);
    }
    call.response().write(out.build());
    flow();
    endIfDone();
  }

  /** Pauses reading while too much is outstanding or unwritten; resumes once neither is. */
  private void flow() {
    boolean hold = !gone && (outstanding.size() >= MAX_OUTSTANDING || call.response().writeQueueFull());
    if (hold != paused) {
      paused = hold;
      if (hold) {
        call.pause();
      } else {
        call.resume();
      }
    }
  }

  private void clientGone() {
    if (gone) {
      return;
    }
    gone = true;
    for (CompletableFuture<ModelInferResponse> answer : new ArrayList<>(outstanding)) {
      answer.cancel(false);
    }
    outstanding.clear();
  }

  private void endIfDone() {
    if (requestsEnded && outstanding.isEmpty() && !ended && !gone) {
      ended = true;
      call.response().end();
    }
  }
}
