package dev.gantry.sidecar.experiment;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.cluster.SpecTable;
import dev.gantry.sidecar.cluster.StateKind;
import dev.gantry.sidecar.cluster.StateStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Optional;

/**
 * Takes a client's reward for a request it was served: finds the variant that served that request id (on whichever
 * sidecar it was), checks that the feedback is within the experiment's window and the first for that request, and
 * counts the reward for that variant. Runs on a worker thread; the data path never waits on it.
 */
public final class Feedback {
  private final Vertx vertx;
  private final StateStore store;
  private final SpecTable<ExperimentRecord> experiments;
  private final ExperimentCounts counts;

  /** Feedback that cannot be taken, with the HTTP status that says why. */
  public static final class Refused extends RuntimeException {
    private final int status;

    Refused(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  public Feedback(Vertx vertx, StateStore store, SpecTable<ExperimentRecord> experiments, ExperimentCounts counts) {
    this.vertx = requireNonNull(vertx, "vertx");
    this.store = requireNonNull(store, "store");
    this.experiments = requireNonNull(experiments, "experiments");
    this.counts = requireNonNull(counts, "counts");
  }

  /**
   * The exposure filed for a request id. The serving sidecar files it without waiting, as it dispatches the request;
   * a client quick enough to send feedback to another sidecar before the filing lands gets a few retries, 50 ms
   * apart on a timer (no worker thread waits meanwhile).
   */
  private Future<Optional<String>> filed(String requestId, int attempt) {
    return vertx.executeBlocking(() -> store.get(StateKind.FEEDBACK, requestId), false).compose(found -> {
      if (found.isPresent() || attempt >= FILING_RETRIES) {
        return Future.succeededFuture(found);
      }
      io.vertx.core.Promise<Optional<String>> later = io.vertx.core.Promise.promise();
      vertx.setTimer(50, t -> filed(requestId, attempt + 1).onComplete(later));
      return later.future();
    });
  }

  /** Retries, 50 ms apart, for an exposure not filed yet. */
  static final int FILING_RETRIES = 4;

  /** How long past its window feedback is still recognised (and refused as too late, 410, rather than unknown). */
  static long grace(int windowSeconds) {
    return Math.min(windowSeconds, 3600);
  }

  /**
   * Counts a reward for the request; fails with {@link Refused}: 404 for a request id no experiment served (or one
   * long gone), 410 for one past its feedback window or whose experiment has ended, 409 for a second reward.
   */
  public Future<Exposure> reward(String requestId, double reward) {
    requireNonNull(requestId, "requestId");
    return filed(requestId, 0).compose(first -> vertx.executeBlocking(() -> {
      Optional<String> filed = first;
      for (int attempt = 0; attempt < 8; attempt++, filed = store.get(StateKind.FEEDBACK, requestId)) {
        if (filed.isEmpty()) {
          throw new Refused(404, "no request '" + requestId + "' was served by an experiment within its feedback"
              + " window; send the x-request-id (or Seldon puid) its answer carried");
        }
        Exposure exposure = Exposure.fromJson(filed.get());
        ExperimentRecord experiment = experiments.snapshot().get(exposure.endpoint());
        if (experiment == null || !experiment.id().equals(exposure.experimentId())) {
          throw new Refused(410, "the experiment that served request '" + requestId + "' has ended");
        }
        long ageMs = System.currentTimeMillis() - exposure.atMillis();
        if (ageMs > experiment.spec().feedbackWindowSOrDefault() * 1000L) {
          throw new Refused(410, "request '" + requestId + "' was served " + ageMs / 1000 + " s ago, past the"
              + " experiment's feedback window of " + experiment.spec().feedbackWindowSOrDefault() + " s");
        }
        if (exposure.rewarded()) {
          throw new Refused(409, "request '" + requestId + "' has had its feedback already");
        }
        Exposure taken = new Exposure(exposure.experimentId(), exposure.endpoint(), exposure.variant(),
            exposure.atMillis(), true);
        if (store.compareAndSet(StateKind.FEEDBACK, requestId, filed, taken.toJson())) {
          counts.of(exposure.experimentId(), exposure.variant()).rewarded(reward);
          return taken;
        }
      }
      throw new Refused(409, "feedback for request '" + requestId + "' is being sent concurrently; send it once");
    }, false));
  }
}
