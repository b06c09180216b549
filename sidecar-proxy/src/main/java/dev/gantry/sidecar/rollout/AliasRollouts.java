package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.inference.InferParameter;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.sidecar.admin.SpecAdmin;
import dev.gantry.sidecar.cluster.SpecTable;
import dev.gantry.sidecar.cluster.StateKind;
import dev.gantry.sidecar.cluster.StateStore;
import dev.gantry.sidecar.core.Documents;
import dev.gantry.sidecar.rollout.RolloutState.Phase;
import dev.gantry.sidecar.routing.EndpointRecord;
import dev.gantry.sidecar.routing.EndpointSpec;
import dev.gantry.sidecar.routing.EndpointTable;
import dev.gantry.sidecar.routing.VariantSpec;
import dev.gantry.sidecar.runner.RunnerConnection;
import dev.gantry.sidecar.runner.RunnerHealth;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands a watched alias's new version over to a canary rollout. The runner, told {@code on_new_version: rollout},
 * loads a new version beside the served one as a candidate; each tick this member:
 *
 * <ol>
 *   <li>asks its runner what it serves of each model it follows that way, and writes that to cluster state
 *       ({@link StateKind#MODEL_VERSIONS}, one entry per model and member);
 *   <li>for an endpoint whose {@link RolloutPolicy} follows such a model, once every member's runner has the same
 *       candidate loaded (before that, the canary's version would be missing on some pods and count as canary
 *       errors), adds a canary variant pinned to the candidate at weight 0 and applies the rollout
 *       {@code <endpoint>-v<version>} made from the policy, which the {@link RolloutController} then drives;
 *   <li>when that rollout has ended, tells its own runner: promote the candidate (it becomes the version requests
 *       naming none get, and the old one drains) if it succeeded, reject it (unloaded; the old version keeps serving
 *       and the runner does not load it again while the alias names it) if it rolled back, was aborted or deleted;
 *   <li>once every member's runner has done so, deletes the finished rollout and gives the followed variant its
 *       whole weight back without the canary variant; a promoted version becomes the model's accepted version
 *       ({@link StateKind#ACCEPTED_VERSIONS}).
 * </ol>
 *
 * <p>Outside a rollout, a runner that serves another version than the accepted one (it started, or restarted, while
 * the alias named a rejected version or one not rolled out yet) is made to serve the accepted version; a rejected
 * one is then not loaded again, a newer one comes back as a candidate and is rolled out.
 *
 * <p>A candidate of a model no endpoint's policy follows is promoted at once, with a warning: that is what
 * {@code on_new_version: swap} would have done. Every write is a compare-and-set, so members acting on the same tick
 * do each step once. Nothing here runs on the request path: cluster reads and writes run on worker threads, runner
 * calls are asynchronous.
 */
public final class AliasRollouts {
  private static final Logger LOG = LoggerFactory.getLogger(AliasRollouts.class);
  /** How long a started hand-off may go without its rollout before it counts as failed to start. */
  private static final Duration START_GRACE = Duration.ofSeconds(30);

  private final Vertx vertx;
  private final StateStore store;
  private final EndpointTable endpoints;
  private final SpecTable<RolloutRecord> rollouts;
  private final SpecAdmin<EndpointSpec, EndpointRecord> endpointAdmin;
  private final SpecAdmin<RolloutSpec, RolloutRecord> rolloutAdmin;
  private final RunnerConnection runner;
  private final RunnerHealth health;
  private final MeterRegistry meters;
  private final Clock clock;
  private final AtomicBoolean busy = new AtomicBoolean();
  /** What was last logged for each subject, so that a condition that lasts is logged once. */
  private final Map<String, String> logged = new ConcurrentHashMap<>();
  /** When pinning {@code model|version} last failed, so that a registry that is down is not asked every tick. */
  private final Map<String, Long> pinFailed = new ConcurrentHashMap<>();
  /** How long after a failed pin it is tried again. */
  private static final Duration PIN_RETRY = Duration.ofSeconds(30);
  private long timer = -1;

  /** What one member's runner serves of a model it follows with {@code on_new_version: rollout}. */
  public record ModelVersions(String model, String member, long serving, Long candidate) {
    static ModelVersions fromJson(String json) {
      return Documents.read(json, ModelVersions.class);
    }
  }

  /** The version of a model the cluster serves, and what made it so. */
  public record AcceptedVersion(String model, long version, String by) {
    static AcceptedVersion fromJson(String json) {
      return Documents.read(json, AcceptedVersion.class);
    }
  }

  /**
   * One candidate's rollout, as cluster state keeps it.
   *
   * @param rollout the rollout's name
   * @param endpoint the endpoint whose policy started it
   * @param variant the followed variant (the rollout's stable)
   * @param canary the canary variant pinned to the candidate
   * @param model the runner's model
   * @param version the candidate version
   * @param previous the version served when it started
   * @param state {@code running}, then {@code promoted} or {@code rejected}
   * @param note why it could not start, or how it ended
   * @param startedAtMs when it was started
   */
  public record AliasRollout(String rollout, String endpoint, String variant, String canary, String model,
      long version, long previous, String state, String note, long startedAtMs) {
    boolean running() {
      return "running".equals(state);
    }

    AliasRollout with(String newState, String newNote) {
      return new AliasRollout(rollout, endpoint, variant, canary, model, version, previous, newState, newNote,
          startedAtMs);
    }

    String toJson() {
      return Documents.write(this);
    }

    static AliasRollout fromJson(String json) {
      return Documents.read(json, AliasRollout.class);
    }
  }

  /** Something a tick decided to do, done asynchronously after the cluster reads. */
  private sealed interface Action {}

  private record Start(EndpointRecord endpoint, RolloutPolicy policy, AliasRollout rollout, String json)
      implements Action {}

  private record Decide(String model, String key, long version, String reason) implements Action {}

  private record Finish(AliasRollout rollout, String json, boolean promoted) implements Action {}

  private record DeleteRollout(RolloutRecord record) implements Action {}

  private record Pin(String model, long version, boolean refuseCurrent, String reason) implements Action {}

  public AliasRollouts(Vertx vertx, StateStore store, EndpointTable endpoints, SpecTable<RolloutRecord> rollouts,
      SpecAdmin<EndpointSpec, EndpointRecord> endpointAdmin, SpecAdmin<RolloutSpec, RolloutRecord> rolloutAdmin,
      RunnerConnection runner, RunnerHealth health, MeterRegistry meters, Clock clock) {
    this.vertx = requireNonNull(vertx, "vertx");
    this.store = requireNonNull(store, "store");
    this.endpoints = requireNonNull(endpoints, "endpoints");
    this.rollouts = requireNonNull(rollouts, "rollouts");
    this.endpointAdmin = requireNonNull(endpointAdmin, "endpointAdmin");
    this.rolloutAdmin = requireNonNull(rolloutAdmin, "rolloutAdmin");
    this.runner = requireNonNull(runner, "runner");
    this.health = requireNonNull(health, "health");
    this.meters = requireNonNull(meters, "meters");
    this.clock = requireNonNull(clock, "clock");
  }

  /** Ticks every {@code periodMs}. */
  public void start(long periodMs) {
    timer = vertx.setPeriodic(periodMs, id -> tick());
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  /** One look at the runner and cluster state, and what follows from it (public for tests). */
  public Future<Void> tick() {
    if (!busy.compareAndSet(false, true)) {
      return Future.succeededFuture();
    }
    return observe()
        .compose(reports -> vertx.executeBlocking(() -> plan(reports), false))
        .compose(this::act)
        .onComplete(ar -> {
          if (ar.failed()) {
            LOG.warn("event=alias_rollout_tick_failed reason=\"{}\"", ar.cause().getMessage());
          }
          busy.set(false);
        });
  }

  /** The models this runner follows with {@code on_new_version: rollout}, and what it serves of each. */
  private Future<Map<String, ModelVersions>> observe() {
    Set<String> models = new TreeSet<>();
    for (EndpointRecord r : endpoints.snapshot().records().values()) {
      RolloutPolicy p = r.spec().rolloutPolicy();
      if (p != null) {
        p.followed(r.spec().variants()).ifPresent(v -> models.add(v.model()));
      }
    }
    // a model serving two versions may have a candidate that no policy follows (the versions as the health probe
    // last saw them: no index call of its own)
    health.served().forEach((model, versions) -> {
      if (versions.size() > 1) {
        models.add(model);
      }
    });
    List<Future<Optional<ModelVersions>>> asked = new ArrayList<>();
    for (String model : models) {
      asked.add(runner.metadata(model, "", RunnerConnection.CONTROL_TIMEOUT_NANOS).map(this::versions)
          .recover(e -> Future.succeededFuture(Optional.empty())));
    }
    return Future.all(asked).map(all -> {
      Map<String, ModelVersions> out = new HashMap<>();
      for (int i = 0; i < all.size(); i++) {
        Optional<ModelVersions> v = all.resultAt(i);
        v.ifPresent(mv -> out.put(mv.model(), mv));
      }
      return out;
    });
  }

  private Optional<ModelVersions> versions(ModelMetadataResponse meta) {
    Map<String, InferParameter> p = meta.getParametersMap();
    InferParameter mode = p.get("on_new_version");
    if (mode == null || !mode.getStringParam().equals("rollout") || !p.containsKey("source_version")) {
      return Optional.empty();
    }
    InferParameter candidate = p.get("candidate_version");
    return Optional.of(new ModelVersions(meta.getName(), store.self(), p.get("source_version").getInt64Param(),
        candidate == null ? null : candidate.getInt64Param()));
  }

  /** Publishes this member's versions and decides what to do (blocking: on a worker thread). */
  private List<Action> plan(Map<String, ModelVersions> local) {
    String self = store.self();
    for (ModelVersions v : local.values()) {
      store.put(StateKind.MODEL_VERSIONS, v.model() + "|" + self, Documents.write(v));
    }
    Set<String> members = new HashSet<>(store.members());
    Map<String, List<ModelVersions>> byModel = new HashMap<>();
    store.all(StateKind.MODEL_VERSIONS).forEach((key, json) -> {
      ModelVersions v = ModelVersions.fromJson(json);
      if (members.contains(v.member())) {
        byModel.computeIfAbsent(v.model(), m -> new ArrayList<>()).add(v);
      } else {
        // a member that left: its report must not hold anything up (it writes again if it comes back)
        store.compareAndDelete(StateKind.MODEL_VERSIONS, key, json);
      }
    });
    Map<String, String> handoffJson = store.all(StateKind.ALIAS_ROLLOUTS);
    Map<String, RolloutRecord> rolloutsNow = rollouts.snapshot();
    List<Action> actions = new ArrayList<>();
    Set<String> followed = new HashSet<>();
    for (EndpointRecord record : endpoints.snapshot().records().values()) {
      EndpointSpec spec = record.spec();
      RolloutPolicy policy = spec.rolloutPolicy();
      Optional<VariantSpec> variant = policy == null ? Optional.empty() : policy.followed(spec.variants());
      if (variant.isEmpty()) {
        continue;
      }
      String model = variant.get().model();
      followed.add(model);
      ModelVersions mine = local.get(model);
      if (mine == null) {
        once("policy:" + spec.name(), "unfollowed", () -> LOG.warn("event=rollout_policy_without_watched_source"
            + " endpoint={} model={} reason=\"the runner does not serve model '{}' from a watched URI with"
            + " on_new_version: rollout, so no new version will reach this policy\"", spec.name(), model, model));
        continue;
      }
      List<ModelVersions> everyone = byModel.getOrDefault(model, List.of());
      Optional<Map.Entry<String, String>> active = handoffJson.entrySet().stream()
          .filter(e -> {
            AliasRollout h = AliasRollout.fromJson(e.getValue());
            return h.endpoint().equals(spec.name()) && h.running();
          }).findFirst();
      if (active.isPresent()) {
        progress(AliasRollout.fromJson(active.get().getValue()), active.get().getValue(), mine, everyone,
            rolloutsNow, actions);
        continue;
      }
      // outside a rollout every runner serves the version the cluster accepted: a runner that started while the
      // alias named another (a rejected version, or one not rolled out yet) is made to serve it
      Optional<String> acceptedJson = store.get(StateKind.ACCEPTED_VERSIONS, model);
      if (acceptedJson.isEmpty()) {
        store.compareAndSet(StateKind.ACCEPTED_VERSIONS, model, Optional.empty(), Documents.write(
            new AcceptedVersion(model, mine.serving(), "first report, by " + self)));
        continue;
      }
      AcceptedVersion accepted = AcceptedVersion.fromJson(acceptedJson.get());
      if (mine.serving() != accepted.version()) {
        Optional<AliasRollout> rejected = handoffJson.values().stream().map(AliasRollout::fromJson)
            .filter(h -> h.model().equals(model) && h.version() == mine.serving() && "rejected".equals(h.state()))
            .findFirst();
        String reason = rejected.map(h -> h.note()).orElse("the cluster serves version " + accepted.version()
            + " (" + accepted.by() + ")");
        if (!pinFailed.containsKey(model + "|" + accepted.version())
            || clock.millis() - pinFailed.get(model + "|" + accepted.version()) > PIN_RETRY.toMillis()) {
          actions.add(new Pin(model, accepted.version(), rejected.isPresent(), reason));
        }
        continue;
      }
      if (mine.candidate() == null) {
        continue;
      }
      long candidate = mine.candidate();
      List<String> missing = members.stream().filter(m -> everyone.stream().noneMatch(v -> v.member().equals(m)
          && Long.valueOf(candidate).equals(v.candidate()))).sorted().toList();
      if (!missing.isEmpty()) {
        once("wait:" + spec.name(), candidate + " " + missing, () -> LOG.info("event=alias_rollout_waiting"
            + " endpoint={} model={} candidate={} waiting_for={}", spec.name(), model, candidate, missing));
        continue;
      }
      Optional<RolloutRecord> busyWith = rolloutsNow.values().stream()
          .filter(r -> r.spec().endpoint().equals(spec.name())).findFirst();
      if (busyWith.isPresent()) {
        String name = busyWith.get().spec().name();
        Optional<AliasRollout> earlier = Optional.ofNullable(handoffJson.get(name)).map(AliasRollout::fromJson);
        if (earlier.isPresent() && !earlier.get().running()) {
          actions.add(new DeleteRollout(busyWith.get()));
        } else {
          once("busy:" + spec.name(), name, () -> LOG.warn("event=alias_rollout_waiting endpoint={} model={}"
              + " candidate={} reason=\"rollout '{}' moves the endpoint; the candidate waits until it is deleted\"",
              spec.name(), model, candidate, name));
        }
        continue;
      }
      String name = RolloutPolicy.rolloutName(spec.name(), candidate);
      AliasRollout started = new AliasRollout(name, spec.name(), variant.get().name(),
          RolloutPolicy.canaryName(variant.get().name(), candidate), model, candidate, mine.serving(), "running",
          null, clock.millis());
      Optional<String> before = Optional.ofNullable(handoffJson.get(name));
      if (store.compareAndSet(StateKind.ALIAS_ROLLOUTS, name, before, started.toJson())) {
        actions.add(new Start(record, policy, started, started.toJson()));
      }
    }
    for (ModelVersions v : local.values()) {
      if (v.candidate() != null && !followed.contains(v.model())) {
        once("orphan:" + v.model(), String.valueOf(v.candidate()), () -> LOG.warn("event=alias_candidate_promoted"
            + " model={} version={} reason=\"no endpoint's rollout_policy follows model '{}': promoted at once, as"
            + " on_new_version: swap would\"", v.model(), v.candidate(), v.model()));
        actions.add(new Decide(v.model(), "promote_version", v.candidate(), "no rollout policy follows the model"));
      }
    }
    return actions;
  }

  /** What an active hand-off needs from this member. */
  private void progress(AliasRollout h, String json, ModelVersions mine, List<ModelVersions> everyone,
      Map<String, RolloutRecord> rolloutsNow, List<Action> actions) {
    RolloutRecord record = rolloutsNow.get(h.rollout());
    Optional<RolloutStatus> status = store.get(StateKind.ROLLOUT_STATUS, h.rollout()).map(RolloutStatus::fromJson)
        .filter(s -> record != null && s.rolloutId().equals(record.id()));
    Phase phase = status.map(s -> s.state().phase()).orElse(Phase.PENDING);
    String reason;
    if (record == null) {
      if (h.note() == null && clock.millis() - h.startedAtMs() < START_GRACE.toMillis()) {
        return;
      }
      reason = h.note() != null ? "rollout " + h.rollout() + " could not start: " + h.note()
          : "rollout " + h.rollout() + " was deleted before it finished";
    } else if (!phase.finished()) {
      return;
    } else {
      reason = "rollout " + h.rollout() + " ended " + phase.name().toLowerCase(java.util.Locale.ROOT);
    }
    boolean promote = record != null && phase == Phase.SUCCEEDED;
    long v = h.version();
    if (Long.valueOf(v).equals(mine.candidate())) {
      actions.add(new Decide(h.model(), promote ? "promote_version" : "reject_version", v, reason));
      return;
    }
    // every member's runner has acted: the rollout and its canary variant can go
    boolean done = everyone.stream().allMatch(m -> promote ? m.serving() == v && !Long.valueOf(v).equals(m.candidate())
        : !Long.valueOf(v).equals(m.candidate()));
    if (done) {
      actions.add(new Finish(h.with(promote ? "promoted" : "rejected", reason), json, promote));
    }
  }

  private Future<Void> act(List<Action> actions) {
    Future<Void> chain = Future.succeededFuture();
    for (Action a : actions) {
      chain = chain.compose(v -> perform(a).recover(e -> {
        LOG.warn("event=alias_rollout_step_failed step={} reason=\"{}\"", a.getClass().getSimpleName(),
            e.getMessage());
        return Future.succeededFuture();
      }));
    }
    return chain;
  }

  private Future<Void> perform(Action action) {
    if (action instanceof Start s) {
      return start(s);
    }
    if (action instanceof Decide d) {
      return runner.decide(d.model(), d.key(), d.version(), d.reason()).onSuccess(v -> LOG.info(
          "event=alias_candidate_decided model={} version={} decision={} reason=\"{}\"", d.model(), d.version(),
          d.key().equals("promote_version") ? "promoted" : "rejected", d.reason()));
    }
    if (action instanceof Finish f) {
      return finish(f);
    }
    if (action instanceof Pin p) {
      return runner.pin(p.model(), p.version(), p.refuseCurrent(), p.reason())
          .onSuccess(v -> LOG.info("event=alias_version_pinned model={} version={} refused_current={} reason=\"{}\"",
              p.model(), p.version(), p.refuseCurrent(), p.reason()))
          .onFailure(e -> pinFailed.put(p.model() + "|" + p.version(), clock.millis()));
    }
    DeleteRollout d = (DeleteRollout) action;
    return rolloutAdmin.delete(d.record().spec().name(), OptionalLong.of(d.record().revision())).mapEmpty();
  }

  /** Adds the canary variant at weight 0, then applies the rollout. */
  private Future<Void> start(Start s) {
    AliasRollout h = s.rollout();
    EndpointSpec es = s.endpoint().spec();
    List<VariantSpec> variants = new ArrayList<>(es.variants().stream()
        .filter(v -> !v.name().equals(h.canary())).toList());
    variants.add(new VariantSpec(h.canary(), h.model(), Long.toString(h.version()), null, 0));
    RolloutSpec rollout = s.policy().rollout(es.name(), h.variant(), h.canary(), h.version());
    return endpointAdmin.apply(es.withVariants(variants), OptionalLong.of(s.endpoint().revision()))
        // the rollout is checked against this member's endpoint snapshot, which the cluster's listeners feed a little
        // later than the write above returns: wait (on timers) until the snapshot has the canary variant
        .compose(v -> seen(es.name(), h.canary(), VARIANT_SEEN_TRIES))
        .compose(v -> rolloutAdmin.apply(rollout, OptionalLong.of(0)))
        .onSuccess(v -> LOG.info("event=alias_rollout_started rollout={} endpoint={} model={} version={} previous={}"
            + " stable={} canary={}", h.rollout(), h.endpoint(), h.model(), h.version(), h.previous(), h.variant(),
            h.canary()))
        .<Void>mapEmpty()
        .recover(e -> {
          LOG.error("event=alias_rollout_start_failed rollout={} endpoint={} model={} version={} reason=\"{}\"",
              h.rollout(), h.endpoint(), h.model(), h.version(), e.getMessage());
          return vertx.executeBlocking(() -> store.compareAndSet(StateKind.ALIAS_ROLLOUTS, h.rollout(),
              Optional.of(s.json()), h.with("running", String.valueOf(e.getMessage())).toJson()), false).mapEmpty();
        });
  }

  /** Checks of this member's endpoint snapshot, 100 ms apart, before a rollout is applied anyway. */
  private static final int VARIANT_SEEN_TRIES = 50;

  /** Completes once this member's endpoint snapshot lists the variant, or after {@code tries} checks 100 ms apart. */
  private Future<Void> seen(String endpoint, String variant, int tries) {
    EndpointRecord er = endpoints.snapshot().records().get(endpoint);
    if (tries <= 0 || er != null && er.spec().variants().stream().anyMatch(v -> v.name().equals(variant))) {
      return Future.succeededFuture();
    }
    io.vertx.core.Promise<Void> later = io.vertx.core.Promise.promise();
    vertx.setTimer(100, id -> seen(endpoint, variant, tries - 1).onComplete(later));
    return later.future();
  }

  /** Deletes the finished rollout, gives the followed variant its whole weight back and records the outcome. */
  private Future<Void> finish(Finish f) {
    AliasRollout h = f.rollout();
    RolloutRecord record = rollouts.snapshot().get(h.rollout());
    Future<Void> deleted = record == null ? Future.succeededFuture()
        : rolloutAdmin.delete(h.rollout(), OptionalLong.of(record.revision())).<Void>mapEmpty()
            .recover(e -> Future.succeededFuture());
    return deleted.compose(v -> {
      EndpointRecord er = endpoints.snapshot().records().get(h.endpoint());
      if (er == null) {
        return Future.<Void>succeededFuture();
      }
      List<VariantSpec> variants = new ArrayList<>();
      for (VariantSpec vs : er.spec().variants()) {
        if (vs.name().equals(h.canary())) {
          continue;
        }
        variants.add(vs.name().equals(h.variant()) ? new VariantSpec(vs.name(), vs.model(), vs.version(),
            vs.upstream(), 100) : vs);
      }
      if (variants.equals(er.spec().variants())) {
        return Future.<Void>succeededFuture();
      }
      return endpointAdmin.applyKnown(er.spec().withVariants(variants), OptionalLong.of(er.revision())).mapEmpty();
    }).compose(v -> vertx.executeBlocking(() -> {
      if (f.promoted()) {
        // written before the hand-off is marked finished: whoever sees it finished sees the version it accepted
        store.put(StateKind.ACCEPTED_VERSIONS, h.model(), Documents.write(new AcceptedVersion(h.model(),
            h.version(), "rollout " + h.rollout())));
      }
      return store.compareAndSet(StateKind.ALIAS_ROLLOUTS, h.rollout(), Optional.of(f.json()), h.toJson());
    }, false)).map(written -> {
          if (written) {
            Counter.builder("gantry.alias.rollouts")
                .description("Rollouts of a watched alias's new versions, by how they ended (promoted or rejected)")
                .tags("endpoint", h.endpoint(), "model", h.model(), "outcome", h.state())
                .register(meters).increment();
            LOG.info("event=alias_rollout_finished rollout={} endpoint={} model={} version={} outcome={} serving={}"
                + " reason=\"{}\"", h.rollout(), h.endpoint(), h.model(), h.version(), h.state(),
                f.promoted() ? h.version() : h.previous(), h.note());
          }
          return null;
        });
  }

  /** Runs {@code log} when {@code value} is not what was last logged for {@code subject}. */
  private void once(String subject, String value, Runnable log) {
    if (!value.equals(logged.put(subject, value))) {
      log.run();
    }
  }

  /** The hand-offs cluster state holds, by rollout name (for the admin API and tests). */
  public Future<Map<String, AliasRollout>> all() {
    return vertx.executeBlocking(() -> store.all(StateKind.ALIAS_ROLLOUTS).entrySet().stream()
        .collect(Collectors.toMap(Map.Entry::getKey, e -> AliasRollout.fromJson(e.getValue()))), false);
  }
}
