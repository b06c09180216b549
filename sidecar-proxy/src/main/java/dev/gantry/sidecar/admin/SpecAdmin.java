package dev.gantry.sidecar.admin;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.cluster.StateStore;
import dev.gantry.sidecar.routing.SpecProblem;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Declarative changes to one kind of object: checks a spec (its fields, then against the world), then writes it to
 * cluster state with the next revision, guarded by the revision the caller last saw. Every member hears the change
 * through its listener; this member logs it, once, with the old and the new record.
 *
 * <p>Writes are compare-and-set on the map entry, so concurrent writers never lose each other's changes and no lock
 * is held. Cluster reads and writes run on worker threads, never on an event loop.
 */
public final class SpecAdmin<S, R> {
  private static final Logger LOG = LoggerFactory.getLogger(SpecAdmin.class);
  /** Attempts at a write that lost a race with another writer, before it is answered 409. */
  private static final int ATTEMPTS = 8;
  /**
   * How long an admin request waits for cluster state. While a dead member's partitions move to their backups the
   * cluster may not answer for a while; the caller hears 503 instead of waiting on Hazelcast's two-minute timeout.
   */
  static final long CLUSTER_TIMEOUT_SECONDS = 15;

  /** What a change did: the record now stored, and whether it was created, changed, or already so. */
  public record Outcome<R>(R record, Change change) {}

  /** What a write did. */
  public enum Change { CREATED, CHANGED, UNCHANGED }

  private final Vertx vertx;
  private final StateStore store;
  private final SpecKind<S, R> kind;
  private final Clock clock;

  public SpecAdmin(Vertx vertx, StateStore store, SpecKind<S, R> kind, Clock clock) {
    this.vertx = requireNonNull(vertx, "vertx");
    this.store = requireNonNull(store, "store");
    this.kind = requireNonNull(kind, "kind");
    this.clock = requireNonNull(clock, "clock");
  }

  public SpecKind<S, R> kind() {
    return kind;
  }

  /** Every object of the kind, by name. */
  public Future<List<R>> list() {
    return blocking(() -> store.all(kind.stateKind()).values().stream().map(kind::fromJson)
        .sorted(Comparator.comparing(r -> kind.name(kind.spec(r)))).toList());
  }

  /** One object; 404 when there is none of that name. */
  public Future<R> get(String name) {
    return blocking(() -> store.get(kind.stateKind(), name).map(kind::fromJson).orElseThrow(() -> notFound(name)));
  }

  /**
   * Applies a spec: 422 naming the fields when it is not valid or does not fit the world, 412 when {@code ifMatch}
   * is not the current revision (0: only if there is none; -1: only if there is one), 409 when writers keep racing.
   */
  public Future<Outcome<R>> apply(S spec, OptionalLong ifMatch) {
    List<SpecProblem> problems = kind.problems(spec);
    if (!problems.isEmpty()) {
      return Future.failedFuture(invalid(kind.name(spec), problems));
    }
    return kind.check(spec).compose(found -> found.isEmpty() ? blocking(() -> write(spec, ifMatch))
        : Future.failedFuture(invalid(kind.name(spec), found)));
  }

  /**
   * Applies a spec whose fit with the world the caller vouches for (a rollout changing only an endpoint's weights:
   * its models and upstreams were checked when it was applied), without asking the upstreams again: checked on its
   * own and written by compare-and-set like {@link #apply}.
   */
  public Future<Outcome<R>> applyKnown(S spec, OptionalLong ifMatch) {
    List<SpecProblem> problems = kind.problems(spec);
    if (!problems.isEmpty()) {
      return Future.failedFuture(invalid(kind.name(spec), problems));
    }
    return blocking(() -> write(spec, ifMatch));
  }

  /**
   * Applies a spec declared in the configuration file, at start: written only when cluster state has no object of
   * that name (so a change made through the admin API outlives a restart). Checked on its own only: what it names may
   * not be up yet. Blocks.
   *
   * @return whether it was written
   */
  public boolean declare(S spec) {
    List<SpecProblem> problems = kind.problems(spec);
    if (!problems.isEmpty()) {
      throw invalid(kind.name(spec), problems);
    }
    String by = store.self() + " (configuration file)";
    R record = kind.record(Optional.empty(), spec, 1, now(), by);
    boolean written = store.compareAndSet(kind.stateKind(), kind.name(spec), Optional.empty(), kind.toJson(record));
    if (written) {
      LOG.info("event={}_changed name={} revision=1 by=\"{}\" old=none new={}", kind.noun(), kind.name(spec), by,
          kind.toJson(record));
    }
    return written;
  }

  /** Deletes an object; 404 when there is none, 412 when {@code ifMatch} is not its revision. */
  public Future<R> delete(String name, OptionalLong ifMatch) {
    return blocking(() -> {
      for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        Optional<String> current = store.get(kind.stateKind(), name);
        if (current.isEmpty()) {
          throw notFound(name);
        }
        R old = kind.fromJson(current.get());
        checkRevision(name, ifMatch, kind.revision(old));
        if (store.compareAndDelete(kind.stateKind(), name, current.get())) {
          LOG.info("event={}_deleted name={} revision={} by={} old={}", kind.noun(), name, kind.revision(old),
              store.self(), current.get());
          return old;
        }
      }
      throw new AdminException(409, kind.noun() + " '" + name + "' kept changing while it was being deleted; try"
          + " again");
    });
  }

  private Outcome<R> write(S spec, OptionalLong ifMatch) {
    String name = kind.name(spec);
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      Optional<String> current = store.get(kind.stateKind(), name);
      Optional<R> old = current.map(kind::fromJson);
      long revision = old.map(kind::revision).orElse(0L);
      checkRevision(name, ifMatch, revision);
      if (old.isPresent() && kind.spec(old.get()).equals(spec)) {
        return new Outcome<>(old.get(), Change.UNCHANGED);
      }
      R record = kind.record(old, spec, revision + 1, now(), store.self());
      if (store.compareAndSet(kind.stateKind(), name, current, kind.toJson(record))) {
        LOG.info("event={}_changed name={} revision={} by={} old={} new={}", kind.noun(), name, revision + 1,
            store.self(), current.orElse("none"), kind.toJson(record));
        return new Outcome<>(record, old.isEmpty() ? Change.CREATED : Change.CHANGED);
      }
    }
    throw new AdminException(409, kind.noun() + " '" + name + "' kept changing while this change was being written;"
        + " get it again and retry");
  }

  private void checkRevision(String name, OptionalLong ifMatch, long current) {
    if (ifMatch.isEmpty()) {
      return;
    }
    long expected = ifMatch.getAsLong();
    if (expected == AdminServer.ANY_REVISION ? current == 0 : expected != current) {
      throw new AdminException(412, current == 0
          ? kind.noun() + " '" + name + "' does not exist (If-Match: " + (expected == AdminServer.ANY_REVISION ? "*"
              : "\"" + expected + "\"") + ")"
          : kind.noun() + " '" + name + "' is at revision " + current + ", not " + expected
              + " (If-Match): it was changed since you read it; get it again and reapply");
    }
  }

  /** Cluster work on a worker thread, answered within {@link #CLUSTER_TIMEOUT_SECONDS}. */
  private <T> Future<T> blocking(Callable<T> work) {
    return vertx.executeBlocking(work, false).timeout(CLUSTER_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .recover(e -> Future.failedFuture(e instanceof TimeoutException
            ? new AdminException(503, "cluster state did not answer within " + CLUSTER_TIMEOUT_SECONDS + " s (a member"
                + " may have just left); try again") : e));
  }

  private AdminException invalid(String name, List<SpecProblem> problems) {
    return new AdminException(422, kind.noun() + " spec" + (name == null ? "" : " '" + name + "'") + " is not valid: "
        + String.join("; ", problems.stream().map(SpecProblem::toString).toList()), problems);
  }

  private AdminException notFound(String name) {
    return new AdminException(404, "no " + kind.noun() + " named '" + name + "'");
  }

  private String now() {
    return Instant.now(clock).toString();
  }
}
