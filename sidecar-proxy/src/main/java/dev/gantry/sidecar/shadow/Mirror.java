package dev.gantry.sidecar.shadow;

import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.sidecar.core.InferenceCall;
import io.vertx.core.Future;

/** The mirror layer of the request path: may copy a dispatched call to a shadow, and never touches the call. */
public interface Mirror {
  /** No shadows. */
  Mirror NONE = (call, primary, dispatchedNanos) -> { };

  /**
   * Called once the call has been dispatched to its upstream, on the caller's event loop; must not block.
   *
   * @param primary the call's answer, as its client will get it
   * @param dispatchedNanos {@link System#nanoTime()} when it was dispatched
   */
  void copy(InferenceCall call, Future<ModelInferResponse> primary, long dispatchedNanos);
}
