package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.rollout.RolloutState.Phase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The rollout state machine, pure: a state and an input (an analysis interval, or a command) in, the next state and
 * the decision that explains it out. No clock, no cluster, no I/O: the leader loop around it measures, calls it,
 * writes the state with its fencing epoch, and applies the canary weight the state names.
 *
 * <ul>
 *   <li>A failed interval counts; {@code failureThreshold} of them in a step roll the canary back to 0 at once.
 *   <li>An inconclusive interval neither passes nor fails; {@code inconclusiveLimit} of them in a row wait on or roll
 *       back, as the plan says. Only a passing interval moves a step on, and only once its pause is over.
 *   <li>A rolled-back rollout never moves on by itself again: only a retry (a person) starts it anew.
 * </ul>
 */
public final class RolloutMachine {
  private RolloutMachine() {}

  /** A command from a person (the admin API, the CLI). */
  public enum Command { START, PAUSE, RESUME, PROMOTE, PROMOTE_FULL, ABORT, RETRY }

  /**
   * A decision: what changed and why, with the checks that led to it.
   *
   * @param at when
   * @param from the phase before
   * @param to the phase after
   * @param weight the canary's weight after
   * @param reason in words
   * @param checks the interval's checks, when an analysis led to it
   */
  public record Decision(Instant at, Phase from, Phase to, int step, int weight, String reason,
      List<Analysis.Check> checks) {
    public Decision {
      checks = List.copyOf(checks);
    }
  }

  /**
   * What an input led to.
   *
   * @param state the state after (the same state when refused)
   * @param decision what was decided; empty when nothing changed
   * @param refused why a command could not be taken; empty when it was
   */
  public record Transition(RolloutState state, Optional<Decision> decision, Optional<String> refused) {}

  /** An analysis interval ended. Only a progressing rollout heeds it. */
  public static Transition interval(RolloutPlan plan, RolloutState s, Analysis analysis, Instant now) {
    requireNonNull(plan, "plan");
    requireNonNull(analysis, "analysis");
    if (s.phase() == Phase.PROMOTING) {
      return to(s, s.with(Phase.SUCCEEDED, s.step(), 100, 0, 0, now, s.rolledBack()), "promoted: the canary takes"
          + " all traffic", analysis.checks(), now);
    }
    if (s.phase() != Phase.PROGRESSING) {
      return unchanged(s);
    }
    RolloutPlan.Step step = plan.steps().get(s.step());
    boolean waitsForPerson = step.pause().isEmpty();
    if (!waitsForPerson && analysis.verdict() != Analysis.Verdict.PASS && Duration.between(s.stepStartedAt(), now)
        .compareTo(step.pause().get().plus(plan.progressDeadline())) > 0) {
      return rollBack(s, "step " + s.step() + " could not move on within the progress deadline of "
          + plan.progressDeadline() + " after its pause", analysis, now);
    }
    switch (analysis.verdict()) {
      case FAIL -> {
        int failed = s.failedIntervals() + 1;
        if (failed >= plan.failureThreshold()) {
          return rollBack(s, failed + " failed interval(s) in step " + s.step() + " (threshold "
              + plan.failureThreshold() + ")", analysis, now);
        }
        return to(s, s.with(Phase.PROGRESSING, s.step(), s.canaryWeight(), failed, 0, s.stepStartedAt(),
            s.rolledBack()), "interval failed (" + failed + " of " + plan.failureThreshold() + ")", analysis.checks(),
            now);
      }
      case INCONCLUSIVE -> {
        int inconclusive = s.inconclusiveIntervals() + 1;
        if (inconclusive >= plan.inconclusiveLimit() && plan.onInconclusive() == RolloutPlan.OnInconclusive.ROLL_BACK) {
          return rollBack(s, inconclusive + " inconclusive intervals in a row", analysis, now);
        }
        return to(s, s.with(Phase.PROGRESSING, s.step(), s.canaryWeight(), s.failedIntervals(), inconclusive,
            s.stepStartedAt(), s.rolledBack()), "interval inconclusive (" + inconclusive + " in a row): waiting",
            analysis.checks(), now);
      }
      default -> {
        RolloutState passed = s.with(Phase.PROGRESSING, s.step(), s.canaryWeight(), s.failedIntervals(), 0,
            s.stepStartedAt(), s.rolledBack());
        if (waitsForPerson || Duration.between(s.stepStartedAt(), now).compareTo(step.pause().get()) < 0) {
          return to(s, passed, "interval passed; holding step " + s.step() + (waitsForPerson ? " until promoted" : ""),
              analysis.checks(), now);
        }
        return advance(plan, passed, "step " + s.step() + " held and passed", analysis.checks(), now);
      }
    }
  }

  /** A person's command. */
  public static Transition command(RolloutPlan plan, RolloutState s, Command command, Instant now) {
    requireNonNull(plan, "plan");
    requireNonNull(command, "command");
    return switch (command) {
      case START -> s.phase() != Phase.PENDING ? refuse(s, "only a pending rollout starts")
          : to(s, s.with(Phase.PROGRESSING, 0, plan.steps().get(0).weight(), 0, 0, now, false), "started at step 0",
              List.of(), now);
      case PAUSE -> s.phase() != Phase.PROGRESSING ? refuse(s, "only a progressing rollout pauses")
          : to(s, s.with(Phase.PAUSED, s.step(), s.canaryWeight(), s.failedIntervals(), s.inconclusiveIntervals(),
              s.stepStartedAt(), s.rolledBack()), "paused by hand", List.of(), now);
      case RESUME -> s.phase() != Phase.PAUSED ? refuse(s, "only a paused rollout resumes")
          : to(s, s.with(Phase.PROGRESSING, s.step(), s.canaryWeight(), s.failedIntervals(), 0, now, s.rolledBack()),
              "resumed by hand", List.of(), now);
      case PROMOTE -> s.phase() != Phase.PROGRESSING && s.phase() != Phase.PAUSED
          ? refuse(s, "only a progressing or paused rollout is promoted")
          : advance(plan, s, "promoted by hand past step " + s.step(), List.of(), now);
      case PROMOTE_FULL -> s.phase() != Phase.PROGRESSING && s.phase() != Phase.PAUSED
          ? refuse(s, "only a progressing or paused rollout is promoted")
          : to(s, s.with(Phase.PROMOTING, plan.steps().size() - 1, 100, 0, 0, now, s.rolledBack()),
              "promoted fully by hand", List.of(), now);
      case ABORT -> s.phase().finished() || s.phase() == Phase.PENDING ? refuse(s, "only a running rollout aborts")
          : to(s, s.with(Phase.ABORTED, s.step(), 0, s.failedIntervals(), 0, now, true),
              "aborted by hand: all traffic back to stable", List.of(), now);
      case RETRY -> !(s.phase() == Phase.ROLLED_BACK || s.phase() == Phase.ABORTED || s.phase() == Phase.FAILED)
          ? refuse(s, "only a rolled-back, aborted or failed rollout is retried")
          : to(s, s.with(Phase.PROGRESSING, 0, plan.steps().get(0).weight(), 0, 0, now, s.rolledBack()),
              "retried by hand from step 0", List.of(), now);
    };
  }

  private static Transition advance(RolloutPlan plan, RolloutState s, String why, List<Analysis.Check> checks,
      Instant now) {
    int next = s.step() + 1;
    if (next >= plan.steps().size()) {
      return to(s, s.with(Phase.PROMOTING, s.step(), 100, 0, 0, now, s.rolledBack()), why + "; promoting", checks,
          now);
    }
    return to(s, s.with(Phase.PROGRESSING, next, plan.steps().get(next).weight(), 0, 0, now, s.rolledBack()),
        why + "; step " + next + " at " + plan.steps().get(next).weight() + " %", checks, now);
  }

  private static Transition rollBack(RolloutState s, String why, Analysis analysis, Instant now) {
    return to(s, s.with(Phase.ROLLED_BACK, s.step(), 0, s.failedIntervals(), 0, now, true), "rolled back: " + why,
        analysis.checks(), now);
  }

  private static Transition to(RolloutState from, RolloutState to, String why, List<Analysis.Check> checks,
      Instant now) {
    return new Transition(to, Optional.of(new Decision(now, from.phase(), to.phase(), to.step(), to.canaryWeight(), why,
        checks)), Optional.empty());
  }

  private static Transition unchanged(RolloutState s) {
    return new Transition(s, Optional.empty(), Optional.empty());
  }

  private static Transition refuse(RolloutState s, String why) {
    return new Transition(s, Optional.empty(), Optional.of(why));
  }
}
