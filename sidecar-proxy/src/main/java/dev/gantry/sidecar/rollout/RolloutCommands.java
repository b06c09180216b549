package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.admin.AdminException;
import dev.gantry.sidecar.cluster.SpecTable;
import dev.gantry.sidecar.cluster.StateKind;
import dev.gantry.sidecar.cluster.StateStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;

/**
 * A person's commands (pause, resume, promote, abort, retry), taken by whichever sidecar's admin API gets them:
 * the state machine decides, the status is written by compare-and-set (the leader then reads it at its next tick),
 * and the weights it names are set at once, so that an abort sends all traffic to stable without waiting.
 */
public final class RolloutCommands {
  private static final int ATTEMPTS = 10;
  private final Vertx vertx;
  private final StateStore store;
  private final SpecTable<RolloutRecord> rollouts;
  private final RolloutCounts counts;
  private final RolloutController controller;
  private final Clock clock;

  public RolloutCommands(Vertx vertx, StateStore store, SpecTable<RolloutRecord> rollouts, RolloutCounts counts,
      RolloutController controller, Clock clock) {
    this.vertx = requireNonNull(vertx, "vertx");
    this.store = requireNonNull(store, "store");
    this.rollouts = requireNonNull(rollouts, "rollouts");
    this.counts = requireNonNull(counts, "counts");
    this.controller = requireNonNull(controller, "controller");
    this.clock = requireNonNull(clock, "clock");
  }

  /** Runs a command; 404 without such a rollout, 409 when its state refuses the command. */
  public Future<RolloutStatus> run(String name, RolloutMachine.Command command) {
    RolloutRecord record = rollouts.snapshot().get(name);
    if (record == null) {
      return Future.failedFuture(new AdminException(404, "no rollout named '" + name + "'"));
    }
    return vertx.executeBlocking(() -> write(record, command), false)
        .compose(s -> controller.reconcile(record.spec(), s.state()).map(s));
  }

  private RolloutStatus write(RolloutRecord record, RolloutMachine.Command command) {
    String name = record.spec().name();
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      Optional<String> current = store.get(StateKind.ROLLOUT_STATUS, name);
      RolloutStatus s = current.map(RolloutStatus::fromJson).filter(x -> x.rolloutId().equals(record.id()))
          .orElseThrow(() -> new AdminException(409, "rollout '" + name + "' has not been picked up by a sidecar yet;"
              + " try again in a second"));
      Instant now = clock.instant();
      RolloutMachine.Transition t = RolloutMachine.command(record.spec().plan(), s.state(), command, now);
      if (t.refused().isPresent()) {
        throw new AdminException(409, "rollout '" + name + "' is " + s.state().phase() + ": " + t.refused().get());
      }
      RolloutStatus next = s.withWaiting(null).decided(t.state(), t.decision().orElseThrow(), "command",
          store.self() + " (admin API)", 0);
      if (command == RolloutMachine.Command.RETRY || command == RolloutMachine.Command.RESUME
          || command == RolloutMachine.Command.PROMOTE || command == RolloutMachine.Command.PROMOTE_FULL) {
        // a new step (or a resumed one) is judged on what comes after the command
        next = next.interval(now.toEpochMilli(), counts.read(record), command != RolloutMachine.Command.RESUME);
      }
      if (store.compareAndSet(StateKind.ROLLOUT_STATUS, name, current, next.toJson())) {
        return next;
      }
    }
    throw new AdminException(409, "rollout '" + name + "' kept changing while the command was being written; try"
        + " again");
  }
}
