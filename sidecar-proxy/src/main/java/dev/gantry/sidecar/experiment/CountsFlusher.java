package dev.gantry.sidecar.experiment;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.cluster.StateKind;
import dev.gantry.sidecar.cluster.StateStore;
import io.vertx.core.Vertx;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies this member's counts to cluster state every interval, and once more when the sidecar stops. Each member
 * writes only its own entries (cumulative counts, so a write repeated or lost is made good by the next), which stay
 * after it leaves: results are the exact sum of every member's last flush.
 */
public final class CountsFlusher {
  private static final Logger LOG = LoggerFactory.getLogger(CountsFlusher.class);
  private final Vertx vertx;
  private final StateStore store;
  private final ExperimentCounts counts;
  private final String member;
  private final Map<String, String> written = new HashMap<>();
  private long timer = -1;

  public CountsFlusher(Vertx vertx, StateStore store, ExperimentCounts counts) {
    this.vertx = requireNonNull(vertx, "vertx");
    this.store = requireNonNull(store, "store");
    this.counts = requireNonNull(counts, "counts");
    // a member that restarts at the same address is another counter: its counts must not replace the last ones
    this.member = store.self() + "/" + UUID.randomUUID();
  }

  public void start(long intervalMs) {
    timer = vertx.setPeriodic(intervalMs, id -> vertx.executeBlocking(() -> {
      flush();
      return null;
    }, true).onFailure(e -> LOG.warn("event=experiment_counts_flush_failed reason=\"{}\"", e.getMessage())));
  }

  /** Writes what changed since the last flush; blocks on the cluster. */
  public synchronized void flush() {
    counts.snapshot().forEach((id, variants) -> {
      MemberCounts doc = new MemberCounts(id, member, variants);
      String json = doc.toJson();
      if (!json.equals(written.get(id))) {
        store.put(StateKind.EXPERIMENT_COUNTS, doc.key(), json);
        written.put(id, json);
      }
    });
  }

  /** Stops the timer and flushes a last time. */
  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    try {
      flush();
    } catch (RuntimeException e) {
      LOG.warn("event=experiment_counts_flush_failed reason=\"{}\"", e.getMessage());
    }
  }
}
