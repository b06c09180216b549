package dev.gantry.sidecar.experiment;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.admin.ReaderSpecKind;
import dev.gantry.sidecar.cluster.StateKind;
import dev.gantry.sidecar.routing.Endpoint;
import dev.gantry.sidecar.routing.EndpointTable;
import dev.gantry.sidecar.routing.SpecProblem;
import dev.gantry.sidecar.routing.Variant;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;

/** Experiments in the admin API: valid when the fields are and it names an endpoint and one of its variants. */
public final class ExperimentKind extends ReaderSpecKind<ExperimentSpec, ExperimentRecord> {
  private final EndpointTable endpoints;

  public ExperimentKind(EndpointTable endpoints) {
    super(StateKind.EXPERIMENTS, "experiment", ExperimentSpec.class, ExperimentRecord::fromJson);
    this.endpoints = requireNonNull(endpoints, "endpoints");
  }

  @Override
  public String name(ExperimentSpec spec) {
    return spec.name();
  }

  @Override
  public ExperimentSpec named(ExperimentSpec spec, String name) {
    return new ExperimentSpec(name, spec.control(), spec.goal(), spec.alpha(), spec.plannedSamples(),
        spec.minSamples(), spec.feedbackWindowS());
  }

  @Override
  public List<SpecProblem> problems(ExperimentSpec spec) {
    return spec.problems();
  }

  @Override
  public Future<List<SpecProblem>> check(ExperimentSpec spec) {
    Optional<Endpoint> endpoint = endpoints.snapshot().endpoint(spec.name());
    if (endpoint.isEmpty()) {
      return Future.succeededFuture(List.of(new SpecProblem("name", "there is no endpoint '" + spec.name()
          + "'; apply the endpoint first")));
    }
    if (endpoint.get().variant(spec.control()).isEmpty()) {
      return Future.succeededFuture(List.of(new SpecProblem("control", "endpoint '" + spec.name() + "' has no"
          + " variant '" + spec.control() + "'; its variants are " + endpoint.get().variants().stream()
              .map(Variant::name).collect(Collectors.joining(", ")))));
    }
    return Future.succeededFuture(List.of());
  }

  @Override
  public ExperimentRecord record(Optional<ExperimentRecord> previous, ExperimentSpec spec, long revision,
      String updatedAt, String updatedBy) {
    return new ExperimentRecord(previous.map(ExperimentRecord::id).orElse(UUID.randomUUID().toString()), revision,
        updatedAt, updatedBy, spec);
  }

  @Override
  public JsonObject view(ExperimentRecord r) {
    return new JsonObject().put("name", r.spec().name()).put("id", r.id()).put("revision", r.revision())
        .put("updated_at", r.updatedAt()).put("updated_by", r.updatedBy()).put("spec", new JsonObject(r.specAsMap()));
  }
}
