package dev.gantry.sidecar.shadow;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.admin.ReaderSpecKind;
import dev.gantry.sidecar.cluster.StateKind;
import dev.gantry.sidecar.core.SpecReader;
import dev.gantry.sidecar.routing.Endpoint;
import dev.gantry.sidecar.routing.EndpointTable;
import dev.gantry.sidecar.routing.SpecProblem;
import dev.gantry.sidecar.routing.Variant;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Shadows in the admin API: a spec is valid when its fields are and it names an endpoint this sidecar knows and one
 * of that endpoint's variants (whose upstream was checked when the endpoint was applied).
 */
public final class ShadowKind extends ReaderSpecKind<ShadowSpec, ShadowRecord> {
  private final EndpointTable endpoints;

  public ShadowKind(EndpointTable endpoints) {
    super(StateKind.SHADOWS, "shadow", ShadowSpec.class, ShadowRecord::fromJson);
    this.endpoints = requireNonNull(endpoints, "endpoints");
  }

  /** The reader of shadow specs (also for the configuration file). */
  public static SpecReader<ShadowSpec> reader() {
    return new SpecReader<>(ShadowSpec.class, "shadow spec");
  }

  @Override
  public String name(ShadowSpec spec) {
    return spec.name();
  }

  @Override
  public ShadowSpec named(ShadowSpec spec, String name) {
    return new ShadowSpec(name, spec.variant(), spec.percent(), spec.timeoutMs(), spec.maxInFlight(),
        spec.keepDisagreements());
  }

  @Override
  public List<SpecProblem> problems(ShadowSpec spec) {
    return spec.problems();
  }

  @Override
  public Future<List<SpecProblem>> check(ShadowSpec spec) {
    Optional<Endpoint> endpoint = endpoints.snapshot().endpoint(spec.name());
    if (endpoint.isEmpty()) {
      return Future.succeededFuture(List.of(new SpecProblem("name", "there is no endpoint '" + spec.name()
          + "' to shadow; apply the endpoint first (its shadow variant usually has weight 0)")));
    }
    if (endpoint.get().variant(spec.variant()).isEmpty()) {
      return Future.succeededFuture(List.of(new SpecProblem("variant", "endpoint '" + spec.name() + "' has no variant"
          + " '" + spec.variant() + "'; its variants are " + endpoint.get().variants().stream().map(Variant::name)
              .collect(Collectors.joining(", ")))));
    }
    return Future.succeededFuture(List.of());
  }

  @Override
  public ShadowRecord record(Optional<ShadowRecord> previous, ShadowSpec spec, long revision, String updatedAt,
      String updatedBy) {
    return new ShadowRecord(revision, updatedAt, updatedBy, spec);
  }

  @Override
  public JsonObject view(ShadowRecord r) {
    return new JsonObject().put("name", r.spec().name()).put("revision", r.revision())
        .put("updated_at", r.updatedAt()).put("updated_by", r.updatedBy()).put("spec", new JsonObject(r.specAsMap()));
  }
}
