package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.core.Documents;
import dev.gantry.sidecar.core.Revisioned;
import java.util.Map;

/**
 * A rollout's spec as cluster state keeps it (the {@code gantry.rollouts} map); where it stands is kept apart, in
 * {@link RolloutStatus}.
 *
 * @param id made when the rollout is created and kept through its changes: its counts belong to it
 * @param revision 1 when created, one more at each change
 * @param updatedAt when the revision was written (ISO-8601, UTC)
 * @param updatedBy the member whose admin API wrote it
 * @param spec the spec as applied
 */
public record RolloutRecord(String id, long revision, String updatedAt, String updatedBy, RolloutSpec spec)
    implements Revisioned<RolloutSpec> {
  public RolloutRecord {
    requireNonNull(id, "id");
    requireNonNull(updatedAt, "updatedAt");
    requireNonNull(updatedBy, "updatedBy");
    requireNonNull(spec, "spec");
  }

  public String toJson() {
    return Documents.write(this);
  }

  public static RolloutRecord fromJson(String json) {
    return Documents.read(json, RolloutRecord.class);
  }

  /** The valid record a stored document holds; {@link IllegalArgumentException} when it holds none. */
  public static RolloutRecord validOf(String json) {
    RolloutRecord r = fromJson(json);
    if (!r.spec().problems().isEmpty()) {
      throw new IllegalArgumentException(r.spec().problems().toString());
    }
    return r;
  }

  public Map<String, Object> specAsMap() {
    return Documents.asMap(spec);
  }
}
