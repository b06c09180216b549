package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.core.Documents;
import dev.gantry.sidecar.experiment.VariantTally;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a rollout stands, as cluster state keeps it after every transition (the {@code gantry.rollout-status} map,
 * keyed by the rollout's name), so that any sidecar can take over from the last one that drove it.
 *
 * @param rolloutId the id of the rollout record it belongs to (a rollout deleted and made again starts anew)
 * @param epoch the fencing epoch of the leader that wrote it: a leader whose epoch is lower may no longer write
 * @param state the state machine's state
 * @param intervalStartedAtMs when the current analysis interval began (epoch ms)
 * @param intervalBaseline the merged cumulative counts (by variant) when the interval began
 * @param stepBaseline the merged cumulative counts when the step began (the sequential test runs over the step)
 * @param decisions the decision log, oldest first (the last {@link #KEPT_DECISIONS})
 * @param decisionCounts decisions made, by result, since the rollout was created
 * @param lastChecks the checks of the last analysis
 * @param waiting what the rollout waits for (a webhook, traffic), or null
 */
public record RolloutStatus(String rolloutId, long epoch, RolloutState state, long intervalStartedAtMs,
    Map<String, VariantTally> intervalBaseline, Map<String, VariantTally> stepBaseline, List<Entry> decisions,
    Map<String, Long> decisionCounts, List<Analysis.Check> lastChecks, String waiting) {
  /** Decisions kept in the log. */
  public static final int KEPT_DECISIONS = 200;

  /**
   * One decision of the log.
   *
   * @param result {@code pass}, {@code fail} or {@code inconclusive} for an interval's analysis, {@code command}
   *     for a person's, {@code hook} for a webhook's
   * @param by the member that made it
   * @param epoch the leader's epoch (0 for a command)
   */
  public record Entry(RolloutMachine.Decision decision, String result, String by, long epoch) {}

  public RolloutStatus {
    requireNonNull(rolloutId, "rolloutId");
    requireNonNull(state, "state");
    intervalBaseline = intervalBaseline == null ? Map.of() : Map.copyOf(intervalBaseline);
    stepBaseline = stepBaseline == null ? Map.of() : Map.copyOf(stepBaseline);
    decisions = decisions == null ? List.of() : List.copyOf(decisions);
    decisionCounts = decisionCounts == null ? Map.of() : Map.copyOf(decisionCounts);
    lastChecks = lastChecks == null ? List.of() : List.copyOf(lastChecks);
  }

  /** A rollout not started yet. */
  public static RolloutStatus pending(String rolloutId, long epoch, java.time.Instant now) {
    return new RolloutStatus(rolloutId, epoch, RolloutState.pending(now), now.toEpochMilli(), Map.of(), Map.of(),
        List.of(), Map.of(), List.of(), null);
  }

  /** This status with another state and the decision that led to it logged and counted. */
  public RolloutStatus decided(RolloutState next, RolloutMachine.Decision decision, String result, String by,
      long byEpoch) {
    List<Entry> log = new ArrayList<>(decisions);
    log.add(new Entry(decision, result, by, byEpoch));
    while (log.size() > KEPT_DECISIONS) {
      log.remove(0);
    }
    Map<String, Long> counts = new HashMap<>(decisionCounts);
    counts.merge(result, 1L, Long::sum);
    return new RolloutStatus(rolloutId, epoch, next, intervalStartedAtMs, intervalBaseline, stepBaseline, log, counts,
        decision.checks().isEmpty() ? lastChecks : decision.checks(), waiting);
  }

  public RolloutStatus withEpoch(long e) {
    return new RolloutStatus(rolloutId, e, state, intervalStartedAtMs, intervalBaseline, stepBaseline, decisions,
        decisionCounts, lastChecks, waiting);
  }

  public RolloutStatus withWaiting(String w) {
    return new RolloutStatus(rolloutId, epoch, state, intervalStartedAtMs, intervalBaseline, stepBaseline, decisions,
        decisionCounts, lastChecks, w);
  }

  /** A new interval from these counts; a new step's baseline too when {@code newStep}. */
  public RolloutStatus interval(long startedAtMs, Map<String, VariantTally> counts, boolean newStep) {
    return new RolloutStatus(rolloutId, epoch, state, startedAtMs, counts, newStep ? counts : stepBaseline, decisions,
        decisionCounts, lastChecks, waiting);
  }

  public String toJson() {
    return Documents.write(this);
  }

  public static RolloutStatus fromJson(String json) {
    return Documents.read(json, RolloutStatus.class);
  }
}
