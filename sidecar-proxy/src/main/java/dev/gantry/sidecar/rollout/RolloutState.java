package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * Where a rollout is: what cluster state keeps after every transition, so that another sidecar can take over.
 *
 * @param phase the phase
 * @param step the step being held (or last held), 0-based
 * @param canaryWeight the canary's weight now
 * @param failedIntervals failed analysis intervals in this step
 * @param inconclusiveIntervals inconclusive intervals in a row
 * @param stepStartedAt when the step began
 * @param rolledBack whether it was ever rolled back (it then never promotes itself again)
 */
public record RolloutState(Phase phase, int step, int canaryWeight, int failedIntervals, int inconclusiveIntervals,
    Instant stepStartedAt, boolean rolledBack) {

  /** The phases of a rollout (Flagger's and Argo's, by other names where theirs differ). */
  public enum Phase {
    PENDING, PROGRESSING, PAUSED, PROMOTING, SUCCEEDED, ROLLED_BACK, ABORTED, FAILED;

    /** Whether the rollout is over (only a retry starts it again). */
    public boolean finished() {
      return this == SUCCEEDED || this == ROLLED_BACK || this == ABORTED || this == FAILED;
    }
  }

  public RolloutState {
    requireNonNull(phase, "phase");
    requireNonNull(stepStartedAt, "stepStartedAt");
  }

  /** A rollout not started yet. */
  public static RolloutState pending(Instant now) {
    return new RolloutState(Phase.PENDING, 0, 0, 0, 0, now, false);
  }

  RolloutState with(Phase p, int s, int weight, int failed, int inconclusive, Instant started, boolean back) {
    return new RolloutState(p, s, weight, failed, inconclusive, started, back);
  }
}
