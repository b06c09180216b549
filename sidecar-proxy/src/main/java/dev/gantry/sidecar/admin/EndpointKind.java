package dev.gantry.sidecar.admin;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.cluster.StateKind;
import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.SidecarException;
import dev.gantry.sidecar.routing.Endpoint;
import dev.gantry.sidecar.routing.EndpointRecord;
import dev.gantry.sidecar.routing.EndpointSpec;
import dev.gantry.sidecar.routing.RouteLayer;
import dev.gantry.sidecar.routing.SpecProblem;
import dev.gantry.sidecar.routing.Upstream;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Endpoints in the admin API: a spec is valid when its fields are and every variant's upstream serves the variant's
 * model and version (each upstream is asked for the model's metadata). A change keeps as many keys on their variant
 * as it can ({@link Endpoint#revise}); the allocation is stored with the spec.
 */
public final class EndpointKind extends ReaderSpecKind<EndpointSpec, EndpointRecord> {
  private final RouteLayer routes;

  public EndpointKind(RouteLayer routes) {
    super(StateKind.ENDPOINTS, "endpoint", EndpointSpec.class, EndpointRecord::fromJson);
    this.routes = requireNonNull(routes, "routes");
  }

  @Override
  public String name(EndpointSpec spec) {
    return spec.name();
  }

  @Override
  public EndpointSpec named(EndpointSpec spec, String name) {
    return spec.named(name);
  }

  @Override
  public List<SpecProblem> problems(EndpointSpec spec) {
    return spec.problems();
  }

  @Override
  public Future<List<SpecProblem>> check(EndpointSpec spec) {
    List<Future<Optional<SpecProblem>>> checks = new ArrayList<>();
    for (int i = 0; i < spec.variants().size(); i++) {
      var v = spec.variants().get(i);
      checks.add(serves(routes, Upstream.parse(v.upstream()), v.model(), v.version(), "variants[" + i + "]"));
    }
    return Future.all(checks).map(all -> checks.stream().map(Future::result).flatMap(Optional::stream).toList());
  }

  /** Asks an upstream for a model's metadata: a model or version it does not serve, or no answer, is a problem. */
  static Future<Optional<SpecProblem>> serves(RouteLayer routes, Upstream upstream, String model, String version,
      String path) {
    String v = version == null ? "" : version;
    return routes.link(upstream).catalog().metadata(model, v).transform(ar -> {
      if (ar.succeeded()) {
        return Future.succeededFuture(Optional.empty());
      }
      SidecarException e = SidecarException.of(ar.cause());
      String where = "upstream '" + upstream.spec() + "'";
      if (e.kind() == ErrorKind.NOT_FOUND) {
        return Future.succeededFuture(Optional.of(new SpecProblem(path + (v.isEmpty() ? ".model" : ".version"),
            where + " does not serve model '" + model + "'" + (v.isEmpty() ? "" : " version '" + v + "'") + ": "
                + e.getMessage())));
      }
      return Future.succeededFuture(Optional.of(new SpecProblem(path + ".upstream", where + " could not be asked"
          + " whether it serves model '" + model + "': " + e.getMessage())));
    });
  }

  @Override
  public EndpointRecord record(Optional<EndpointRecord> previous, EndpointSpec spec, long revision, String updatedAt,
      String updatedBy) {
    Endpoint endpoint = previous.isEmpty() ? Endpoint.initial(spec) : Endpoint.revise(previous.get().endpoint(), spec);
    return EndpointRecord.of(revision, updatedAt, updatedBy, spec, endpoint);
  }

  @Override
  public JsonObject view(EndpointRecord r) {
    JsonObject allocation = new JsonObject();
    r.allocation().forEach((variant, ranges) -> {
      JsonArray list = new JsonArray();
      ranges.forEach(range -> list.add(new JsonArray().add(range.start()).add(range.end())));
      allocation.put(variant, list);
    });
    return new JsonObject().put("name", r.spec().name()).put("revision", r.revision())
        .put("updated_at", r.updatedAt()).put("updated_by", r.updatedBy())
        .put("spec", new JsonObject(r.specAsMap())).put("buckets", allocation);
  }
}
