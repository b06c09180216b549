package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.admin.AdminException;
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
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RolloutCommands.class);
  private static final int ATTEMPTS = 10;
  private final Vertx vertx;
  private final StateStore store;
  private final RolloutCounts counts;
  private final RolloutController controller;
  private final Clock clock;

  public RolloutCommands(Vertx vertx, StateStore store, RolloutCounts counts,
      RolloutController controller, Clock clock) {
    this.vertx = requireNonNull(vertx, "vertx");
    this.store = requireNonNull(store, "store");
    this.counts = requireNonNull(counts, "counts");
    this.controller = requireNonNull(controller, "controller");
    this.clock = requireNonNull(clock, "clock");
  }

  /** Runs a command; 404 without such a rollout, 409 when its state refuses the command. */
  public Future<RolloutStatus> run(String name, RolloutMachine.Command command) {
    return vertx.executeBlocking(() -> {
      // read from cluster state, not this member's snapshot, so that a rollout just applied is found at once
      RolloutRecord record = store.get(StateKind.ROLLOUTS, name).map(RolloutRecord::fromJson)
          .orElseThrow(() -> new AdminException(404, "no rollout named '" + name + "'"));
      return new Written(record, write(record, command));
    }, false).compose(w -> controller.reconcile(w.record().spec(), w.status().state())
        // the command is taken once its state is written; setting the weights at once only saves the leader's next
        // tick, which sets them anyway (a concurrent endpoint change, e.g. by the leader, may refuse this write)
        .recover(e -> {
          LOG.info("event=rollout_command_weights_deferred rollout={} reason=\"{}\"", name, e.getMessage());
          return Future.succeededFuture();
        }).map(w.status()));
  }

  private record Written(RolloutRecord record, RolloutStatus status) {}

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
