package dev.gantry.sidecar.experiment;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.core.Documents;
import java.util.Map;

/**
 * One member's counts of one experiment as cluster state keeps them (the {@code gantry.experiment-counts} map, key
 * {@code experiment-id|member}): cumulative, so writing them again is harmless, and kept after the member leaves.
 *
 * @param experimentId the experiment's id
 * @param member the member process that counted them (address and a per-process id)
 * @param variants by variant name
 */
public record MemberCounts(String experimentId, String member, Map<String, VariantTally> variants) {
  public MemberCounts {
    requireNonNull(experimentId, "experimentId");
    requireNonNull(member, "member");
    variants = Map.copyOf(variants);
  }

  /** The key of these counts. */
  public String key() {
    return experimentId + "|" + member;
  }

  public String toJson() {
    return Documents.write(this);
  }

  public static MemberCounts fromJson(String json) {
    return Documents.read(json, MemberCounts.class);
  }
}
