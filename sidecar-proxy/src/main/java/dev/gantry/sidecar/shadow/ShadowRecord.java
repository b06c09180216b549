package dev.gantry.sidecar.shadow;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.core.Documents;
import dev.gantry.sidecar.core.Revisioned;
import java.util.Map;

/**
 * A shadow as cluster state keeps it (the {@code gantry.shadows} map): the spec as applied and its revision.
 *
 * @param revision 1 when created, one more at each change
 * @param updatedAt when the revision was written (ISO-8601, UTC)
 * @param updatedBy the member whose admin API wrote it
 * @param spec the spec as applied
 */
public record ShadowRecord(long revision, String updatedAt, String updatedBy, ShadowSpec spec)
    implements Revisioned<ShadowSpec> {
  public ShadowRecord {
    requireNonNull(updatedAt, "updatedAt");
    requireNonNull(updatedBy, "updatedBy");
    requireNonNull(spec, "spec");
  }

  public String toJson() {
    return Documents.write(this);
  }

  /** A stored document; {@link IllegalArgumentException} when it is not one. */
  public static ShadowRecord fromJson(String json) {
    return Documents.read(json, ShadowRecord.class);
  }

  /** The valid spec a stored document holds; {@link IllegalArgumentException} when it holds none. */
  public static ShadowSpec specOf(String json) {
    ShadowSpec spec = fromJson(json).spec();
    if (!spec.problems().isEmpty()) {
      throw new IllegalArgumentException(spec.problems().toString());
    }
    return spec;
  }

  /** The spec as JSON, as the admin API and the CLI show it. */
  public Map<String, Object> specAsMap() {
    return Documents.asMap(spec);
  }
}
