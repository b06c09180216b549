package dev.gantry.sidecar.admin;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.cluster.StateKind;
import dev.gantry.sidecar.cluster.StateStore;
import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.SidecarException;
import dev.gantry.sidecar.routing.Endpoint;
import dev.gantry.sidecar.routing.EndpointRecord;
import dev.gantry.sidecar.routing.EndpointSpec;
import dev.gantry.sidecar.routing.RouteLayer;
import dev.gantry.sidecar.routing.SpecProblem;
import dev.gantry.sidecar.routing.Upstream;
import dev.gantry.sidecar.routing.VariantSpec;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Declarative endpoint changes: checks a spec (its fields, then that every variant's upstream serves its model and
 * version), then writes it to cluster state with the next revision, guarded by the revision the caller last saw.
 * Every member hears the change through its listener; this member logs it, once, with the old and the new spec.
 *
 * <p>Cluster reads and writes run on worker threads, never on an event loop.
 */
public final class EndpointAdmin {
  private static final Logger LOG = LoggerFactory.getLogger(EndpointAdmin.class);
  /** Attempts at a write that lost a race with another writer, before it is answered 409. */
  private static final int ATTEMPTS = 8;
  /**
   * How long an admin request waits for cluster state. While a dead member's partitions move to their backups the
   * cluster may not answer for a while; the caller hears 503 instead of waiting on Hazelcast's two-minute timeout.
   */
  static final long CLUSTER_TIMEOUT_SECONDS = 15;

  /** What a change did: the record now stored, and whether it was created, changed, or already so. */
  public record Outcome(EndpointRecord record, Change change) {}

  /** What a write did. */
  public enum Change { CREATED, CHANGED, UNCHANGED }

  private final Vertx vertx;
  private final StateStore store;
  private final RouteLayer routes;
  private final Clock clock;

  public EndpointAdmin(Vertx vertx, StateStore store, RouteLayer routes, Clock clock) {
    this.vertx = requireNonNull(vertx, "vertx");
    this.store = requireNonNull(store, "store");
    this.routes = requireNonNull(routes, "routes");
    this.clock = requireNonNull(clock, "clock");
  }

  /** Every endpoint, by name. */
  public Future<List<EndpointRecord>> list() {
    return blocking(() -> store.all(StateKind.ENDPOINTS).values().stream()
        .map(EndpointRecord::fromJson).sorted(Comparator.comparing(r -> r.spec().name())).toList());
  }

  /** One endpoint; 404 when there is none of that name. */
  public Future<EndpointRecord> get(String name) {
    return blocking(() -> store.get(StateKind.ENDPOINTS, name).map(EndpointRecord::fromJson)
        .orElseThrow(() -> notFound(name)));
  }

  /**
   * Applies a spec: 422 naming the fields when it is not valid or names a model its upstream does not serve, 412
   * when {@code ifMatch} is not the current revision (0: only if there is none), 409 when writers keep racing.
   */
  public Future<Outcome> apply(EndpointSpec spec, OptionalLong ifMatch) {
    List<SpecProblem> problems = spec.problems();
    if (!problems.isEmpty()) {
      return Future.failedFuture(invalid(spec.name(), problems));
    }
    return checkUpstreams(spec).compose(upstreamProblems -> upstreamProblems.isEmpty()
        ? blocking(() -> write(spec, ifMatch))
        : Future.failedFuture(invalid(spec.name(), upstreamProblems)));
  }

  /**
   * Applies an endpoint declared in the configuration file, at start: written only when cluster state has no
   * endpoint of that name (so a change made through the admin API outlives a restart). Blocks.
   *
   * @return whether it was written
   */
  public boolean declare(EndpointSpec spec) {
    List<SpecProblem> problems = spec.problems();
    if (!problems.isEmpty()) {
      throw invalid(spec.name(), problems);
    }
    EndpointRecord record = EndpointRecord.of(1, now(), store.self() + " (configuration file)", spec,
        Endpoint.initial(spec));
    boolean written = store.compareAndSet(StateKind.ENDPOINTS, spec.name(), Optional.empty(), record.toJson());
    if (written) {
      LOG.info("event=endpoint_changed name={} revision=1 by=\"{}\" old=none new={}", spec.name(), record.updatedBy(),
          record.toJson());
    }
    return written;
  }

  /** Deletes an endpoint; 404 when there is none, 412 when {@code ifMatch} is not its revision. */
  public Future<EndpointRecord> delete(String name, OptionalLong ifMatch) {
    return blocking(() -> {
      for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        Optional<String> current = store.get(StateKind.ENDPOINTS, name);
        if (current.isEmpty()) {
          throw notFound(name);
        }
        EndpointRecord old = EndpointRecord.fromJson(current.get());
        checkRevision(name, ifMatch, old.revision());
        if (store.compareAndDelete(StateKind.ENDPOINTS, name, current.get())) {
          LOG.info("event=endpoint_deleted name={} revision={} by={} old={}", name, old.revision(), store.self(),
              current.get());
          return old;
        }
      }
      throw new AdminException(409, "endpoint '" + name + "' kept changing while it was being deleted; try again");
    });
  }

  /** Cluster work on a worker thread, answered within {@link #CLUSTER_TIMEOUT_SECONDS}. */
  private <T> Future<T> blocking(java.util.concurrent.Callable<T> work) {
    return vertx.executeBlocking(work, false).timeout(CLUSTER_TIMEOUT_SECONDS, java.util.concurrent.TimeUnit.SECONDS)
        .recover(e -> Future.failedFuture(e instanceof java.util.concurrent.TimeoutException
            ? new AdminException(503, "cluster state did not answer within " + CLUSTER_TIMEOUT_SECONDS + " s (a member"
                + " may have just left); try again") : e));
  }

  private Outcome write(EndpointSpec spec, OptionalLong ifMatch) {
    String name = spec.name();
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      Optional<String> current = store.get(StateKind.ENDPOINTS, name);
      Optional<EndpointRecord> old = current.map(EndpointRecord::fromJson);
      checkRevision(name, ifMatch, old.map(EndpointRecord::revision).orElse(0L));
      if (old.isPresent() && old.get().spec().equals(spec)) {
        return new Outcome(old.get(), Change.UNCHANGED);
      }
      Endpoint endpoint = old.isEmpty() ? Endpoint.initial(spec) : Endpoint.revise(old.get().endpoint(), spec);
      EndpointRecord record = EndpointRecord.of(old.map(EndpointRecord::revision).orElse(0L) + 1, now(),
          store.self(), spec, endpoint);
      if (store.compareAndSet(StateKind.ENDPOINTS, name, current, record.toJson())) {
        LOG.info("event=endpoint_changed name={} revision={} by={} old={} new={}", name, record.revision(),
            store.self(), current.orElse("none"), record.toJson());
        return new Outcome(record, old.isEmpty() ? Change.CREATED : Change.CHANGED);
      }
    }
    throw new AdminException(409, "endpoint '" + name + "' kept changing while this change was being written; get it"
        + " again and retry");
  }

  private static void checkRevision(String name, OptionalLong ifMatch, long current) {
    if (ifMatch.isPresent() && ifMatch.getAsLong() == AdminServer.ANY_REVISION) {
      if (current == 0) {
        throw new AdminException(412, "endpoint '" + name + "' does not exist (If-Match: *)");
      }
      return;
    }
    if (ifMatch.isPresent() && ifMatch.getAsLong() != current) {
      throw new AdminException(412, current == 0
          ? "endpoint '" + name + "' does not exist (If-Match: \"" + ifMatch.getAsLong() + "\")"
          : "endpoint '" + name + "' is at revision " + current + ", not " + ifMatch.getAsLong()
              + " (If-Match): it was changed since you read it; get it again and reapply");
    }
  }

  /** Asks each variant's upstream for its model's metadata: a model or version it does not serve is a problem. */
  private Future<List<SpecProblem>> checkUpstreams(EndpointSpec spec) {
    List<Future<Optional<SpecProblem>>> checks = new ArrayList<>();
    for (int i = 0; i < spec.variants().size(); i++) {
      checks.add(check(spec.variants().get(i), "variants[" + i + "]"));
    }
    return Future.all(checks).map(all -> checks.stream().map(Future::result).flatMap(Optional::stream).toList());
  }

  private Future<Optional<SpecProblem>> check(VariantSpec v, String path) {
    Upstream upstream = Upstream.parse(v.upstream());
    String version = v.version() == null ? "" : v.version();
    return routes.link(upstream).catalog().metadata(v.model(), version).transform(ar -> {
      if (ar.succeeded()) {
        return Future.succeededFuture(Optional.empty());
      }
      SidecarException e = SidecarException.of(ar.cause());
      String where = "upstream '" + upstream.spec() + "'";
      if (e.kind() == ErrorKind.NOT_FOUND) {
        return Future.succeededFuture(Optional.of(new SpecProblem(path + (version.isEmpty() ? ".model" : ".version"),
            where + " does not serve model '" + v.model() + "'" + (version.isEmpty() ? "" : " version '" + version
                + "'") + ": " + e.getMessage())));
      }
      return Future.succeededFuture(Optional.of(new SpecProblem(path + ".upstream", where + " could not be asked"
          + " whether it serves model '" + v.model() + "': " + e.getMessage())));
    });
  }

  private static AdminException invalid(String name, List<SpecProblem> problems) {
    return new AdminException(422, "endpoint spec" + (name == null ? "" : " '" + name + "'") + " is not valid: "
        + String.join("; ", problems.stream().map(SpecProblem::toString).toList()), problems);
  }

  private static AdminException notFound(String name) {
    return new AdminException(404, "no endpoint named '" + name + "'");
  }

  private String now() {
    return Instant.now(clock).toString();
  }
}
