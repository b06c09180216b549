package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What a rollout does, checked: its steps and the limits its analysis works within.
 *
 * @param steps canary weights in rising order, each held for a pause (empty: until promoted by hand); the last one is
 *     followed by promotion
 * @param failureThreshold failed intervals (per step) that roll the canary back
 * @param inconclusiveLimit intervals without enough data in a row before {@code onInconclusive} applies
 * @param onInconclusive what happens then
 * @param progressDeadline how long past its pause a step may go without a passing interval before the rollout rolls
 *     back (steps held until promoted excepted)
 */
public record RolloutPlan(List<Step> steps, int failureThreshold, int inconclusiveLimit, OnInconclusive onInconclusive,
    Duration progressDeadline) {

  /** One step: a canary weight held for a pause (empty: until promoted). */
  public record Step(int weight, Optional<Duration> pause) {
    public Step {
      if (weight < 0 || weight > 100) {
        throw new IllegalArgumentException("a step's weight must be 0 to 100, got " + weight);
      }
      requireNonNull(pause, "pause");
    }
  }

  /** What a run of inconclusive intervals leads to. */
  public enum OnInconclusive { WAIT, ROLL_BACK }

  public RolloutPlan {
    steps = List.copyOf(steps);
    if (steps.isEmpty()) {
      throw new IllegalArgumentException("a rollout needs at least one step");
    }
    for (int i = 1; i < steps.size(); i++) {
      if (steps.get(i).weight() <= steps.get(i - 1).weight()) {
        throw new IllegalArgumentException("step weights must rise, step " + i + " has " + steps.get(i).weight()
            + " after " + steps.get(i - 1).weight());
      }
    }
    if (failureThreshold < 1 || inconclusiveLimit < 1) {
      throw new IllegalArgumentException("the failure threshold and the inconclusive limit must be at least 1");
    }
    requireNonNull(onInconclusive, "onInconclusive");
    requireNonNull(progressDeadline, "progressDeadline");
  }
}
