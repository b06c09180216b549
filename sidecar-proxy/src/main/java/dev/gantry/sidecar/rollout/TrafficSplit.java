package dev.gantry.sidecar.rollout;

import io.vertx.core.Future;

/** Where a rollout's weights are set: the sidecars' own split, or an Istio VirtualService. */
public interface TrafficSplit {
  /** Sets the canary's weight (stable gets the rest); does nothing when it is set already. Idempotent. */
  Future<Void> set(RolloutSpec spec, int canaryWeight);

  /**
   * The rollout was deleted after it rolled back: the canary, kept at weight 0 for inspection until now, leaves the
   * split. Does nothing where there is nothing to remove.
   */
  default Future<Void> retire(RolloutSpec spec) {
    return Future.succeededFuture();
  }
}
