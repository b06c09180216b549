package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.sidecar.cluster.SpecTable;
import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.InferenceCall;
import dev.gantry.sidecar.core.SidecarException;
import dev.gantry.sidecar.experiment.ExperimentCounts;
import dev.gantry.sidecar.path.CallTap;
import io.vertx.core.Future;

/**
 * Counts the calls of endpoints under a rollout, by variant (the rollout's built-in metric source): each success with
 * its latency, each error. A client that went away is neither. The counts are flushed to cluster state with the
 * experiments' and merged there over every sidecar.
 */
public final class RolloutTap implements CallTap {
  private final SpecTable<RolloutRecord> rollouts;
  private final ExperimentCounts counts;

  public RolloutTap(SpecTable<RolloutRecord> rollouts, ExperimentCounts counts) {
    this.rollouts = requireNonNull(rollouts, "rollouts");
    this.counts = requireNonNull(counts, "counts");
  }

  @Override
  public void dispatched(InferenceCall call, Future<ModelInferResponse> answer, long dispatchedNanos) {
    for (RolloutRecord r : rollouts.snapshot().values()) {
      if (r.spec().endpoint().equals(call.endpoint())) {
        ExperimentCounts.Counter counter = counts.of(r.id(), call.variant());
        counter.exposed();
        answer.onComplete(ar -> {
          if (ar.succeeded()) {
            counter.succeeded((System.nanoTime() - dispatchedNanos) / 1e6);
          } else if (SidecarException.of(ar.cause()).kind() != ErrorKind.CANCELLED) {
            counter.failed();
          }
        });
        return;
      }
    }
  }
}
