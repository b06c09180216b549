package dev.gantry.sidecar.experiment;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.core.Documents;
import dev.gantry.sidecar.core.Revisioned;
import java.util.Map;

/**
 * An experiment as cluster state keeps it (the {@code gantry.experiments} map).
 *
 * @param id made when the experiment is created and kept through its changes: counts belong to it, so an
 *     experiment deleted and declared again starts from zero
 * @param revision 1 when created, one more at each change
 * @param updatedAt when the revision was written (ISO-8601, UTC)
 * @param updatedBy the member whose admin API wrote it
 * @param spec the spec as applied
 */
public record ExperimentRecord(String id, long revision, String updatedAt, String updatedBy, ExperimentSpec spec)
    implements Revisioned<ExperimentSpec> {
  public ExperimentRecord {
    requireNonNull(id, "id");
    requireNonNull(updatedAt, "updatedAt");
    requireNonNull(updatedBy, "updatedBy");
    requireNonNull(spec, "spec");
  }

  public String toJson() {
    return Documents.write(this);
  }

  /** A stored document; {@link IllegalArgumentException} when it is not one. */
  public static ExperimentRecord fromJson(String json) {
    return Documents.read(json, ExperimentRecord.class);
  }

  /** The valid record a stored document holds; {@link IllegalArgumentException} when it holds none. */
  public static ExperimentRecord validOf(String json) {
    ExperimentRecord r = fromJson(json);
    if (!r.spec().problems().isEmpty()) {
      throw new IllegalArgumentException(r.spec().problems().toString());
    }
    return r;
  }

  /** The spec as JSON, as the admin API and the CLI show it. */
  public Map<String, Object> specAsMap() {
    return Documents.asMap(spec);
  }
}
