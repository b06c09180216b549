package dev.gantry.sidecar.experiment;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.sidecar.cluster.SpecTable;
import dev.gantry.sidecar.cluster.StateKind;
import dev.gantry.sidecar.cluster.StateStore;
import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.InferenceCall;
import dev.gantry.sidecar.core.SidecarException;
import dev.gantry.sidecar.path.CallTap;
import io.vertx.core.Future;

/**
 * Counts the calls of endpoints under experiment: an exposure when the split sends a call to a variant, then a
 * success (with its latency) or an error when it is answered; and files which variant served each request id, so
 * that feedback can find it. Never waits: the filing is sent to the cluster without waiting for it.
 */
public final class ExperimentTap implements CallTap {
  private final SpecTable<ExperimentRecord> experiments;
  private final ExperimentCounts counts;
  private final StateStore store;

  public ExperimentTap(SpecTable<ExperimentRecord> experiments, ExperimentCounts counts, StateStore store) {
    this.experiments = requireNonNull(experiments, "experiments");
    this.counts = requireNonNull(counts, "counts");
    this.store = requireNonNull(store, "store");
  }

  @Override
  public void dispatched(InferenceCall call, Future<ModelInferResponse> answer, long dispatchedNanos) {
    ExperimentRecord experiment = experiments.snapshot().get(call.endpoint());
    if (experiment == null) {
      return;
    }
    ExperimentCounts.Counter counter = counts.of(experiment.id(), call.variant());
    counter.exposed();
    int window = experiment.spec().feedbackWindowSOrDefault();
    store.putExpiring(StateKind.FEEDBACK, call.requestId(), new Exposure(experiment.id(), call.endpoint(),
        call.variant(), System.currentTimeMillis(), false).toJson(), window + Feedback.grace(window));
    answer.onComplete(ar -> {
      if (ar.succeeded()) {
        counter.succeeded((System.nanoTime() - dispatchedNanos) / 1e6);
      } else if (SidecarException.of(ar.cause()).kind() != ErrorKind.CANCELLED) {
        counter.failed();
      }
    });
  }
}
