package dev.gantry.sidecar.path;

import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.sidecar.core.InferenceCall;
import io.vertx.core.Future;

/**
 * Something that looks at a call to an endpoint once it has been dispatched (the shadow mirror, experiment counts),
 * and never touches the call or its answer.
 */
public interface CallTap {
  /**
   * Called once the call has been dispatched to its upstream, on the caller's event loop; must not block.
   *
   * @param answer the call's answer, as its client will get it
   * @param dispatchedNanos {@link System#nanoTime()} when it was dispatched
   */
  void dispatched(InferenceCall call, Future<ModelInferResponse> answer, long dispatchedNanos);
}
