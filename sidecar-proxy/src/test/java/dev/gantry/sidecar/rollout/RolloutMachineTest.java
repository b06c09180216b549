package dev.gantry.sidecar.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gantry.sidecar.rollout.RolloutMachine.Command;
import dev.gantry.sidecar.rollout.RolloutMachine.Transition;
import dev.gantry.sidecar.rollout.RolloutState.Phase;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** The rollout state machine on its own: the seed's 5/10/25/50/100 plan through passes, failures and no data. */
class RolloutMachineTest {
  static final Duration INTERVAL = Duration.ofSeconds(30);
  static final Instant T0 = Instant.parse("2026-11-29T10:00:00Z");

  static RolloutPlan seedPlan(RolloutPlan.OnInconclusive onInconclusive) {
    List<RolloutPlan.Step> steps = new ArrayList<>();
    for (int w : new int[] {5, 10, 25, 50}) {
      steps.add(new RolloutPlan.Step(w, Optional.of(Duration.ofMinutes(1))));
    }
    return new RolloutPlan(steps, 2, 3, onInconclusive, Duration.ofMinutes(5));
  }

  static Analysis pass() {
    return Analysis.of(List.of(new Analysis.Check("error_rate", OptionalDouble.of(0.001), "<= 0.01",
        Analysis.Verdict.PASS, OptionalDouble.empty())));
  }

  static Analysis fail() {
    return Analysis.of(List.of(new Analysis.Check("error_rate_relative", OptionalDouble.of(3.2), "<= 1.5",
        Analysis.Verdict.FAIL, OptionalDouble.of(0.0004))));
  }

  static Analysis noData() {
    return Analysis.of(List.of(new Analysis.Check("error_rate", OptionalDouble.empty(), "<= 0.01",
        Analysis.Verdict.INCONCLUSIVE, OptionalDouble.empty())));
  }

  /** Feeds one analysis per interval, {@code n} times; returns the last transition and records every weight. */
  static Transition run(RolloutPlan plan, RolloutState start, Analysis analysis, int n, Instant[] clock,
      List<Integer> weights) {
    Transition t = new Transition(start, Optional.empty(), Optional.empty());
    for (int i = 0; i < n; i++) {
      clock[0] = clock[0].plus(INTERVAL);
      t = RolloutMachine.interval(plan, t.state(), analysis, clock[0]);
      weights.add(t.state().canaryWeight());
    }
    return t;
  }

  @Test
  void aHealthyCanaryGoesThroughEveryStepAndIsPromoted() {
    RolloutPlan plan = seedPlan(RolloutPlan.OnInconclusive.WAIT);
    Instant[] clock = {T0};
    Transition started = RolloutMachine.command(plan, RolloutState.pending(T0), Command.START, T0);
    assertThat(started.state().phase()).isEqualTo(Phase.PROGRESSING);
    assertThat(started.state().canaryWeight()).isEqualTo(5);
    List<Integer> weights = new ArrayList<>();
    Transition t = run(plan, started.state(), pass(), 10, clock, weights);
    // each step is held for its minute (two intervals), then moves on; after 50 % comes promotion
    assertThat(weights).containsExactly(5, 10, 10, 25, 25, 50, 50, 100, 100, 100);
    assertThat(t.state().phase()).isEqualTo(Phase.SUCCEEDED);
    assertThat(t.decision()).isEmpty();
  }

  @Test
  void aFailingCanaryRollsBackWithinFailureThresholdIntervalsAndNeverMovesOnByItself() {
    RolloutPlan plan = seedPlan(RolloutPlan.OnInconclusive.WAIT);
    Instant[] clock = {T0};
    RolloutState s = RolloutMachine.command(plan, RolloutState.pending(T0), Command.START, T0).state();
    List<Integer> weights = new ArrayList<>();
    s = run(plan, s, pass(), 2, clock, weights).state();
    assertThat(s.canaryWeight()).isEqualTo(10);
    Transition t = run(plan, s, fail(), 2, clock, weights);
    assertThat(t.state().phase()).isEqualTo(Phase.ROLLED_BACK);
    assertThat(t.state().canaryWeight()).isZero();
    assertThat(t.decision().orElseThrow().reason()).contains("2 failed interval(s) in step 1");
    assertThat(t.decision().orElseThrow().checks().get(0).pValue()).hasValue(0.0004);
    // passing intervals after a rollback change nothing
    Transition after = run(plan, t.state(), pass(), 5, clock, weights);
    assertThat(after.state().phase()).isEqualTo(Phase.ROLLED_BACK);
    assertThat(after.state().canaryWeight()).isZero();
    // only a person starts it again, and it remembers it was rolled back
    Transition retried = RolloutMachine.command(plan, after.state(), Command.RETRY, clock[0]);
    assertThat(retried.state().phase()).isEqualTo(Phase.PROGRESSING);
    assertThat(retried.state().canaryWeight()).isEqualTo(5);
    assertThat(retried.state().rolledBack()).isTrue();
  }

  @Test
  void withoutDataNothingIsPromotedAndTheConfiguredActionApplies() {
    Instant[] clock = {T0};
    RolloutPlan waiting = seedPlan(RolloutPlan.OnInconclusive.WAIT);
    RolloutState s = RolloutMachine.command(waiting, RolloutState.pending(T0), Command.START, T0).state();
    List<Integer> weights = new ArrayList<>();
    // within the progress deadline (1 min pause + 5 min), no data just waits at 5 %
    Transition t = run(waiting, s, noData(), 11, clock, weights);
    assertThat(weights).containsOnly(5);
    assertThat(t.state().phase()).isEqualTo(Phase.PROGRESSING);
    // past it, the step that cannot move on rolls back
    Transition late = run(waiting, t.state(), noData(), 2, clock, weights);
    assertThat(late.state().phase()).isEqualTo(Phase.ROLLED_BACK);
    assertThat(late.decision().orElseThrow().reason()).contains("progress deadline");

    RolloutPlan strict = seedPlan(RolloutPlan.OnInconclusive.ROLL_BACK);
    Instant[] clock2 = {T0};
    RolloutState s2 = RolloutMachine.command(strict, RolloutState.pending(T0), Command.START, T0).state();
    Transition rolled = run(strict, s2, noData(), 3, clock2, new ArrayList<>());
    assertThat(rolled.state().phase()).isEqualTo(Phase.ROLLED_BACK);
    assertThat(rolled.decision().orElseThrow().reason()).contains("3 inconclusive intervals in a row");
  }

  @Test
  void noValueNeverPasses() {
    assertThatThrownBy(() -> new Analysis.Check("p99", OptionalDouble.empty(), "<= 0.2", Analysis.Verdict.PASS,
        OptionalDouble.empty())).hasMessageContaining("cannot pass without a value");
    assertThatThrownBy(() -> new Analysis.Check("p99", OptionalDouble.of(Double.NaN), "<= 0.2", Analysis.Verdict.PASS,
        OptionalDouble.empty())).hasMessageContaining("cannot pass without a value");
    assertThat(Analysis.of(List.of()).verdict()).isEqualTo(Analysis.Verdict.INCONCLUSIVE);
  }

  @Test
  void commandsPauseResumePromoteAndAbort() {
    RolloutPlan plan = new RolloutPlan(List.of(new RolloutPlan.Step(10, Optional.empty()),
        new RolloutPlan.Step(50, Optional.of(Duration.ofMinutes(1)))), 1, 3, RolloutPlan.OnInconclusive.WAIT,
        Duration.ofMinutes(5));
    Instant[] clock = {T0};
    RolloutState s = RolloutMachine.command(plan, RolloutState.pending(T0), Command.START, T0).state();
    // a step held until promoted waits, however long it passes
    Transition held = run(plan, s, pass(), 20, clock, new ArrayList<>());
    assertThat(held.state().canaryWeight()).isEqualTo(10);
    Transition paused = RolloutMachine.command(plan, held.state(), Command.PAUSE, clock[0]);
    assertThat(paused.state().phase()).isEqualTo(Phase.PAUSED);
    assertThat(RolloutMachine.interval(plan, paused.state(), fail(), clock[0]).state()).isEqualTo(paused.state());
    assertThat(RolloutMachine.command(plan, paused.state(), Command.PAUSE, clock[0]).refused()).isPresent();
    Transition promoted = RolloutMachine.command(plan, paused.state(), Command.PROMOTE, clock[0]);
    assertThat(promoted.state().canaryWeight()).isEqualTo(50);
    assertThat(promoted.state().phase()).isEqualTo(Phase.PROGRESSING);
    Transition aborted = RolloutMachine.command(plan, promoted.state(), Command.ABORT, clock[0]);
    assertThat(aborted.state().phase()).isEqualTo(Phase.ABORTED);
    assertThat(aborted.state().canaryWeight()).isZero();
    assertThat(RolloutMachine.command(plan, aborted.state(), Command.PROMOTE_FULL, clock[0]).refused()).isPresent();
    Transition full = RolloutMachine.command(plan, RolloutMachine.command(plan, aborted.state(), Command.RETRY,
        clock[0]).state(), Command.PROMOTE_FULL, clock[0]);
    assertThat(full.state().phase()).isEqualTo(Phase.PROMOTING);
    assertThat(full.state().canaryWeight()).isEqualTo(100);
  }

  @Test
  void plansAreChecked() {
    assertThatThrownBy(() -> new RolloutPlan(List.of(new RolloutPlan.Step(50, Optional.empty()),
        new RolloutPlan.Step(10, Optional.empty())), 1, 1, RolloutPlan.OnInconclusive.WAIT, Duration.ofMinutes(1)))
        .hasMessageContaining("must rise");
    assertThatThrownBy(() -> new RolloutPlan(List.of(), 1, 1, RolloutPlan.OnInconclusive.WAIT, Duration.ofMinutes(1)))
        .hasMessageContaining("at least one step");
  }
}
