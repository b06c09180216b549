package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.admin.ReaderSpecKind;
import dev.gantry.sidecar.cluster.SpecTable;
import dev.gantry.sidecar.cluster.StateKind;
import dev.gantry.sidecar.routing.Endpoint;
import dev.gantry.sidecar.routing.EndpointTable;
import dev.gantry.sidecar.routing.SpecProblem;
import dev.gantry.sidecar.routing.Variant;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Rollouts in the admin API: valid when the fields are, the endpoint has both variants, no other variant takes
 * traffic (the rollout moves weight between stable and canary only), and no other rollout moves that endpoint.
 */
public final class RolloutKind extends ReaderSpecKind<RolloutSpec, RolloutRecord> {
  private final EndpointTable endpoints;
  private final SpecTable<RolloutRecord> rollouts;

  public RolloutKind(EndpointTable endpoints, SpecTable<RolloutRecord> rollouts) {
    super(StateKind.ROLLOUTS, "rollout", RolloutSpec.class, RolloutRecord::fromJson);
    this.endpoints = requireNonNull(endpoints, "endpoints");
    this.rollouts = requireNonNull(rollouts, "rollouts");
  }

  @Override
  public String name(RolloutSpec spec) {
    return spec.name();
  }

  @Override
  public RolloutSpec named(RolloutSpec s, String name) {
    return new RolloutSpec(name, s.endpoint(), s.stable(), s.canary(), s.steps(), s.analysis(), s.webhooks(),
        s.traffic(), s.istio());
  }

  @Override
  public List<SpecProblem> problems(RolloutSpec spec) {
    return spec.problems();
  }

  @Override
  public Future<List<SpecProblem>> check(RolloutSpec spec) {
    List<SpecProblem> problems = new ArrayList<>();
    Optional<Endpoint> endpoint = endpoints.snapshot().endpoint(spec.endpoint());
    if (endpoint.isEmpty()) {
      problems.add(new SpecProblem("endpoint", "there is no endpoint '" + spec.endpoint() + "'; apply the endpoint"
          + " first"));
      return Future.succeededFuture(problems);
    }
    String names = endpoint.get().variants().stream().map(Variant::name).collect(Collectors.joining(", "));
    for (String[] v : new String[][] {{"stable", spec.stable()}, {"canary", spec.canary()}}) {
      if (endpoint.get().variant(v[1]).isEmpty()) {
        problems.add(new SpecProblem(v[0], "endpoint '" + spec.endpoint() + "' has no variant '" + v[1]
            + "'; its variants are " + names));
      }
    }
    if (spec.movesSidecarSplit()) {
      endpoint.get().weights().forEach((variant, weight) -> {
        if (weight > 0 && !variant.equals(spec.stable()) && !variant.equals(spec.canary())) {
          problems.add(new SpecProblem("endpoint", "variant '" + variant + "' of endpoint '" + spec.endpoint()
              + "' has weight " + weight + ": a rollout moves traffic between stable and canary only, so set the"
              + " other variants' weights to 0 first"));
        }
      });
    }
    rollouts.snapshot().values().stream()
        .filter(r -> r.spec().endpoint().equals(spec.endpoint()) && !r.spec().name().equals(spec.name()))
        .findFirst().ifPresent(r -> problems.add(new SpecProblem("endpoint", "rollout '" + r.spec().name()
            + "' moves endpoint '" + spec.endpoint() + "' already; delete it first")));
    return Future.succeededFuture(problems);
  }

  @Override
  public RolloutRecord record(Optional<RolloutRecord> previous, RolloutSpec spec, long revision, String updatedAt,
      String updatedBy) {
    return new RolloutRecord(previous.map(RolloutRecord::id).orElse(UUID.randomUUID().toString()), revision,
        updatedAt, updatedBy, spec);
  }

  @Override
  public JsonObject view(RolloutRecord r) {
    return new JsonObject().put("name", r.spec().name()).put("id", r.id()).put("revision", r.revision())
        .put("updated_at", r.updatedAt()).put("updated_by", r.updatedBy()).put("spec", new JsonObject(r.specAsMap()));
  }
}
