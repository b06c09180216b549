package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.admin.SpecAdmin;
import dev.gantry.sidecar.routing.EndpointRecord;
import dev.gantry.sidecar.routing.EndpointSpec;
import dev.gantry.sidecar.routing.EndpointTable;
import dev.gantry.sidecar.routing.VariantSpec;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The in-sidecar split: the rollout's endpoint is revised with the canary at its weight and stable at the rest,
 * through the same compare-and-set write as the admin API's (so a concurrent edit is never lost), and every sidecar
 * routes by it as soon as cluster state tells it. Only weights change (or a retired canary leaves), so the upstreams
 * are not asked again whether they serve the models: a rollback does not wait on the runner.
 */
public final class SidecarSplit implements TrafficSplit {
  private final EndpointTable endpoints;
  private final SpecAdmin<EndpointSpec, EndpointRecord> admin;

  public SidecarSplit(EndpointTable endpoints, SpecAdmin<EndpointSpec, EndpointRecord> admin) {
    this.endpoints = requireNonNull(endpoints, "endpoints");
    this.admin = requireNonNull(admin, "admin");
  }

  @Override
  public Future<Void> retire(RolloutSpec spec) {
    EndpointRecord record = endpoints.snapshot().records().get(spec.endpoint());
    if (record == null) {
      return Future.succeededFuture();
    }
    EndpointSpec es = record.spec();
    List<VariantSpec> kept = es.variants().stream().filter(v -> !(v.name().equals(spec.canary())
        && (v.weight() == null || v.weight() == 0))).toList();
    if (kept.size() == es.variants().size() || kept.isEmpty()) {
      return Future.succeededFuture();
    }
    return admin.applyKnown(es.withVariants(kept),
        OptionalLong.of(record.revision())).mapEmpty();
  }

  @Override
  public Future<Void> set(RolloutSpec spec, int canaryWeight) {
    EndpointRecord record = endpoints.snapshot().records().get(spec.endpoint());
    if (record == null) {
      return Future.failedFuture(new IllegalStateException("endpoint '" + spec.endpoint() + "' is gone"));
    }
    EndpointSpec es = record.spec();
    List<VariantSpec> variants = new ArrayList<>();
    boolean changed = false;
    for (VariantSpec v : es.variants()) {
      int want = v.name().equals(spec.canary()) ? canaryWeight : v.name().equals(spec.stable()) ? 100 - canaryWeight
          : v.weight() == null ? 0 : v.weight();
      changed |= v.weight() == null || v.weight() != want;
      variants.add(new VariantSpec(v.name(), v.model(), v.version(), v.upstream(), want));
    }
    if (!changed) {
      return Future.succeededFuture();
    }
    return admin.applyKnown(es.withVariants(variants),
        OptionalLong.of(record.revision())).mapEmpty();
  }
}
