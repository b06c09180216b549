package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.cluster.SpecTable;
import dev.gantry.sidecar.cluster.StateKind;
import dev.gantry.sidecar.cluster.StateStore;
import dev.gantry.sidecar.experiment.VariantTally;
import dev.gantry.sidecar.rollout.RolloutState.Phase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives every rollout from the sidecar that holds its lease, and stands by on the others. Each tick, for each
 * rollout: renew or watch its {@link RolloutLease}; the leader reads the {@link RolloutStatus}, and when an interval
 * is over measures it, asks the pure {@link RolloutMachine} for the next state, writes that state (compare-and-set,
 * fenced by its epoch) and only then raises the canary's weight to what it names; a lower weight (a rollback) is set
 * before the write, since only a stale leader could be wrong and it can only shrink the canary's share. A leader that dies stops beating; after a lease
 * period another member takes the lease with the next epoch and resumes from the written state, so no step is
 * repeated or skipped. On a split brain the minority cannot write (the maps are guarded by split-brain protection)
 * and so cannot advance.
 *
 * <p>Nothing here runs on the request path; cluster reads and writes run on worker threads.
 */
public final class RolloutController {
  private static final Logger LOG = LoggerFactory.getLogger(RolloutController.class);
  private final Vertx vertx;
  private final StateStore store;
  private final SpecTable<RolloutRecord> rollouts;
  private final RolloutCounts counts;
  private final Analyst analyst;
  private final Webhooks hooks;
  private final Function<RolloutSpec, List<TrafficSplit>> splits;
  private final Clock clock;
  private final Map<String, Driver> drivers = new ConcurrentHashMap<>();
  private long timer = -1;

  /**
   * @param splits where a rollout's weights are set (the sidecar split, Istio, or both)
   */
  public RolloutController(Vertx vertx, StateStore store, SpecTable<RolloutRecord> rollouts, RolloutCounts counts,
      Analyst analyst, Webhooks hooks, Function<RolloutSpec, List<TrafficSplit>> splits, Clock clock) {
    this.vertx = requireNonNull(vertx, "vertx");
    this.store = requireNonNull(store, "store");
    this.rollouts = requireNonNull(rollouts, "rollouts");
    this.counts = requireNonNull(counts, "counts");
    this.analyst = requireNonNull(analyst, "analyst");
    this.hooks = requireNonNull(hooks, "hooks");
    this.splits = requireNonNull(splits, "splits");
    this.clock = requireNonNull(clock, "clock");
  }

  /** Ticks every {@code tickMs}; a rollout's interval and lease are multiples of it. */
  public void start(long tickMs) {
    timer = vertx.setPeriodic(tickMs, id -> tick());
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  /** Whether this member leads the rollout now (as far as it knows). */
  public boolean leads(String name) {
    Driver d = drivers.get(name);
    return d != null && d.epoch > 0;
  }

  void tick() {
    Map<String, RolloutRecord> now = rollouts.snapshot();
    now.forEach((name, record) -> drivers.computeIfAbsent(name, Driver::new).tick(record));
    for (String name : new HashSet<>(drivers.keySet())) {
      if (!now.containsKey(name)) {
        drivers.remove(name).gone();
      }
    }
  }

  /** Sets the weights a status names, on every split of the rollout. */
  Future<Void> reconcile(RolloutSpec spec, RolloutState state) {
    if (state.phase() == Phase.PENDING) {
      return Future.succeededFuture();
    }
    List<Future<Void>> done = new ArrayList<>();
    for (TrafficSplit s : splits.apply(spec)) {
      done.add(s.set(spec, state.canaryWeight()));
    }
    return Future.all(done).mapEmpty();
  }

  private <T> Future<T> blocking(Callable<T> work) {
    return vertx.executeBlocking(work, false);
  }

  /** One rollout as this member sees it. */
  private final class Driver {
    private final String name;
    private final String self = store.self();
    private final AtomicBoolean busy = new AtomicBoolean();
    /** This member's epoch while it leads; 0 when it does not. */
    private volatile long epoch;
    private String observedLease;
    private long observedAtNanos;
    private RolloutRecord last;

    Driver(String name) {
      this.name = name;
    }

    void tick(RolloutRecord record) {
      last = record;
      if (!busy.compareAndSet(false, true)) {
        return;
      }
      blocking(() -> lease(record))
          .compose(leading -> leading ? blocking(() -> held(record)).compose(h -> h == null ? Future.succeededFuture()
              : lead(record, h)) : Future.succeededFuture())
          .onComplete(ar -> {
            if (ar.failed()) {
              LOG.warn("event=rollout_tick_failed rollout={} reason=\"{}\"", name, ar.cause().getMessage());
            }
            busy.set(false);
          });
    }

    private long leaseNanos(RolloutRecord record) {
      return Math.max(TimeUnit.SECONDS.toNanos(3), record.spec().interval().toNanos());
    }

    /** Renews, watches or takes the lease; whether this member leads. Blocks. */
    private boolean lease(RolloutRecord record) {
      Optional<String> current = store.get(StateKind.ROLLOUT_LEASES, name);
      if (current.isEmpty()) {
        RolloutLease mine = new RolloutLease(self, 1, 0);
        if (store.compareAndSet(StateKind.ROLLOUT_LEASES, name, current, mine.toJson())) {
          took(mine, "none");
          return true;
        }
        return false;
      }
      RolloutLease l = RolloutLease.fromJson(current.get());
      if (epoch > 0 && l.leader().equals(self) && l.epoch() == epoch) {
        if (store.compareAndSet(StateKind.ROLLOUT_LEASES, name, current, new RolloutLease(self, epoch, l.beat() + 1)
            .toJson())) {
          return true;
        }
        lost("the lease changed under it");
        return false;
      }
      if (epoch > 0) {
        lost("epoch " + l.epoch() + " is held by " + l.leader());
      }
      long now = System.nanoTime();
      if (!current.get().equals(observedLease)) {
        observedLease = current.get();
        observedAtNanos = now;
        return false;
      }
      if (now - observedAtNanos < leaseNanos(record)) {
        return false;
      }
      RolloutLease mine = new RolloutLease(self, l.epoch() + 1, 0);
      if (store.compareAndSet(StateKind.ROLLOUT_LEASES, name, current, mine.toJson())) {
        took(mine, l.leader());
        return true;
      }
      return false;
    }

    private void took(RolloutLease mine, String previous) {
      epoch = mine.epoch();
      LOG.info("event=rollout_leader_taken rollout={} epoch={} previous={}", name, epoch, previous);
    }

    private void lost(String why) {
      LOG.info("event=rollout_leader_lost rollout={} epoch={} reason=\"{}\"", name, epoch, why);
      epoch = 0;
    }

    /** The status as stored, made or fenced with this leader's epoch; null when this member no longer leads. */
    private Held held(RolloutRecord record) {
      Optional<String> current = store.get(StateKind.ROLLOUT_STATUS, name);
      RolloutStatus status = current.map(RolloutStatus::fromJson).orElse(null);
      if (status == null || !status.rolloutId().equals(record.id())) {
        RolloutStatus fresh = RolloutStatus.pending(record.id(), epoch, clock.instant());
        return store.compareAndSet(StateKind.ROLLOUT_STATUS, name, current, fresh.toJson())
            ? new Held(fresh.toJson(), fresh) : null;
      }
      if (status.epoch() > epoch) {
        lost("the status was written at epoch " + status.epoch());
        return null;
      }
      if (status.epoch() < epoch) {
        // the fence: from now on a write by an older leader finds the document changed and fails
        RolloutStatus fenced = status.withEpoch(epoch);
        if (!store.compareAndSet(StateKind.ROLLOUT_STATUS, name, current, fenced.toJson())) {
          return null;
        }
        LOG.info("event=rollout_resumed rollout={} epoch={} phase={} step={} canary_weight={}", name, epoch,
            status.state().phase(), status.state().step(), status.state().canaryWeight());
        return new Held(fenced.toJson(), fenced);
      }
      return new Held(current.get(), status);
    }

    /** Advances the rollout if an interval is over, writes what changed, and sets the weights. */
    private Future<Void> lead(RolloutRecord record, Held held) {
      RolloutSpec spec = record.spec();
      RolloutStatus s = held.status();
      Instant now = clock.instant();
      Future<RolloutStatus> next = switch (s.state().phase()) {
        case PENDING -> start(spec, record, s, now);
        case PROGRESSING, PROMOTING -> now.toEpochMilli() - s.intervalStartedAtMs() < spec.interval().toMillis()
            ? Future.succeededFuture(s) : interval(spec, record, s, now);
        default -> Future.succeededFuture(s);
      };
      // the weights are set on every tick, not only after a change: a new leader, or a command written by another
      // member, is then followed within a tick
      return next.compose(n -> {
        if (n.equals(s)) {
          return Future.succeededFuture(n);
        }
        // moving traffic back to stable is safe before the state is written (a deposed leader can only make the
        // canary's share smaller, and the next leader sets the written weights again): a rollback takes effect
        // without waiting for the status write; raising the canary's weight waits for it (the fenced write)
        Future<Void> early = n.state().canaryWeight() < s.state().canaryWeight() ? reconcile(spec, n.state())
            .recover(e -> Future.succeededFuture()) : Future.succeededFuture();
        return early.compose(v -> blocking(() -> write(held, n)));
      }).compose(written -> written == null ? Future.succeededFuture()
              : reconcile(spec, written.state()).onSuccess(v -> {
                if (written != s) {
                  announce(spec, s, written);
                }
              }));
    }

    private Future<RolloutStatus> start(RolloutSpec spec, RolloutRecord record, RolloutStatus s, Instant now) {
      return hooks.callAll(spec, "confirm-rollout", Webhooks.payload(spec, s.state(), "confirm-rollout",
          Optional.empty())).compose(confirms -> {
            Optional<Webhooks.Answer> no = confirms.stream().filter(a -> !a.yes()).findFirst();
            if (no.isPresent()) {
              return Future.succeededFuture(s.withWaiting(no.get().detail()));
            }
            return hooks.callAll(spec, "pre-rollout", Webhooks.payload(spec, s.state(), "pre-rollout",
                Optional.empty())).compose(pres -> {
                  Optional<Webhooks.Answer> failed = pres.stream().filter(a -> !a.yes()).findFirst();
                  if (failed.isPresent()) {
                    RolloutState f = new RolloutState(Phase.FAILED, 0, 0, 0, 0, now, true);
                    return Future.succeededFuture(s.withWaiting(null).decided(f, new RolloutMachine.Decision(now,
                        s.state().phase(), Phase.FAILED, 0, 0, "failed before any traffic moved: "
                        + failed.get().detail(), List.of()), "hook", self, epoch));
                  }
                  RolloutMachine.Transition t = RolloutMachine.command(spec.plan(), s.state(),
                      RolloutMachine.Command.START, now);
                  return blocking(() -> counts.read(record)).map(c -> s.withWaiting(null)
                      .decided(t.state(), t.decision().orElseThrow(), "start", self, epoch)
                      .interval(now.toEpochMilli(), c, true));
                });
          });
    }

    private Future<RolloutStatus> interval(RolloutSpec spec, RolloutRecord record, RolloutStatus s, Instant now) {
      return hooks.callAll(spec, "rollback", Webhooks.payload(spec, s.state(), "rollback", Optional.empty()))
          .compose(rollbacks -> {
            Optional<Webhooks.Answer> asked = rollbacks.stream().filter(Webhooks.Answer::yes).findFirst();
            if (asked.isPresent()) {
              RolloutMachine.Transition t = RolloutMachine.command(spec.plan(), s.state(),
                  RolloutMachine.Command.ABORT, now);
              RolloutMachine.Decision d = t.decision().orElseThrow();
              return Future.succeededFuture(s.decided(t.state(), new RolloutMachine.Decision(d.at(), d.from(), d.to(),
                  d.step(), d.weight(), "aborted: " + asked.get().detail(), List.of()), "hook", self, epoch));
            }
            return blocking(() -> counts.read(record)).compose(c -> measure(spec, s, c));
          });
    }

    private Future<RolloutStatus> measure(RolloutSpec spec, RolloutStatus s, Map<String, VariantTally> c) {
      Future<Analysis> analysis = s.state().phase() == Phase.PROMOTING ? Future.succeededFuture(Analysis.of(List.of()))
          : analyst.analyse(spec, c, s.intervalBaseline(), s.stepBaseline());
      return analysis.compose(a -> {
        // the decision is made now that the analysis is in (reading the counts and asking Prometheus take time)
        Instant decided = clock.instant();
        RolloutMachine.Transition t = RolloutMachine.interval(spec.plan(), s.state(), a, decided);
        String result = s.state().phase() == Phase.PROMOTING ? "promote" : a.verdict().name().toLowerCase();
        RolloutMachine.Decision d = t.decision().orElseThrow();
        boolean newStep = t.state().step() != s.state().step() || t.state().phase() != s.state().phase();
        if (t.state().phase() == Phase.PROMOTING && s.state().phase() == Phase.PROGRESSING) {
          return hooks.callAll(spec, "confirm-promotion", Webhooks.payload(spec, s.state(), "confirm-promotion",
              Optional.empty())).map(confirms -> {
                Optional<Webhooks.Answer> no = confirms.stream().filter(x -> !x.yes()).findFirst();
                if (no.isPresent()) {
                  RolloutMachine.Decision held = new RolloutMachine.Decision(decided, s.state().phase(),
                      s.state().phase(), s.state().step(), s.state().canaryWeight(),
                      "interval passed; holding the last step: " + no.get().detail(), a.checks());
                  return s.withWaiting(no.get().detail()).decided(s.state(), held, result, self, epoch)
                      .interval(decided.toEpochMilli(), c, false);
                }
                return s.withWaiting(null).decided(t.state(), d, result, self, epoch)
                    .interval(decided.toEpochMilli(), c, true);
              });
        }
        return Future.succeededFuture(s.withWaiting(null).decided(t.state(), d, result, self, epoch)
            .interval(decided.toEpochMilli(), c, newStep));
      });
    }

    /** Writes the next status if the stored one is still the one read; the written status, or null. Blocks. */
    private RolloutStatus write(Held held, RolloutStatus next) {
      if (store.compareAndSet(StateKind.ROLLOUT_STATUS, name, Optional.of(held.json()), next.toJson())) {
        RolloutState st = next.state();
        if (st.phase() != held.status().state().phase() || st.step() != held.status().state().step()
            || st.canaryWeight() != held.status().state().canaryWeight()) {
          LOG.info("event=rollout_transition rollout={} epoch={} from={} to={} step={} canary_weight={} reason=\"{}\"",
              name, epoch, held.status().state().phase(), st.phase(), st.step(), st.canaryWeight(),
              next.decisions().isEmpty() ? "" : next.decisions().get(next.decisions().size() - 1).decision().reason());
        }
        return next;
      }
      // a command or a new leader wrote it meanwhile: the next tick reads it again
      return null;
    }

    /** Tells the event hooks of each new decision. */
    private void announce(RolloutSpec spec, RolloutStatus before, RolloutStatus after) {
      int known = before.decisions().size();
      List<RolloutStatus.Entry> log = after.decisions();
      for (int i = Math.min(known, log.size()); i < log.size(); i++) {
        RolloutStatus.Entry e = log.get(i);
        if (e.decision().from() != e.decision().to() || e.decision().step() != before.state().step()) {
          hooks.callAll(spec, "event", Webhooks.payload(spec, after.state(), "event",
              Optional.of(e.decision().reason())));
        }
      }
    }

    /** The rollout was deleted: the leader clears its status and lease. */
    void gone() {
      if (epoch == 0) {
        return;
      }
      RolloutRecord record = last;
      blocking(() -> {
        Optional<String> status = store.get(StateKind.ROLLOUT_STATUS, name);
        status.ifPresent(json -> store.compareAndDelete(StateKind.ROLLOUT_STATUS, name, json));
        store.get(StateKind.ROLLOUT_LEASES, name).ifPresent(json -> store.compareAndDelete(StateKind.ROLLOUT_LEASES,
            name, json));
        return status.map(RolloutStatus::fromJson).map(s -> s.state().rolledBack()
            && s.state().phase().finished() && s.state().phase() != Phase.SUCCEEDED).orElse(false);
      }).compose(rolledBack -> {
        if (!rolledBack || record == null) {
          return Future.succeededFuture();
        }
        // the canary stayed at weight 0 for inspection while the rollout existed; now it leaves the split
        return Future.all(splits.apply(record.spec()).stream().map(s -> s.retire(record.spec())).toList())
            .mapEmpty();
      }).onComplete(ar -> LOG.info("event=rollout_deleted rollout={} epoch={} outcome={}", name, epoch,
          ar.succeeded() ? "ok" : ar.cause().getMessage()));
    }
  }

  /** A status and the exact document it was read from (what a compare-and-set must find). */
  private record Held(String json, RolloutStatus status) {}

  /** How long a rollout's lease lasts without a beat before another member takes it. */
  public static Duration lease(RolloutSpec spec) {
    return Duration.ofNanos(Math.max(TimeUnit.SECONDS.toNanos(3), spec.interval().toNanos()));
  }
}
