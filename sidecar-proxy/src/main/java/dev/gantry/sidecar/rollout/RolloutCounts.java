package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.cluster.StateKind;
import dev.gantry.sidecar.cluster.StateStore;
import dev.gantry.sidecar.experiment.MemberCounts;
import dev.gantry.sidecar.experiment.VariantTally;
import dev.gantry.sidecar.shadow.ShadowMirror;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads a rollout's counts as every sidecar flushed them, merged by variant: cumulative since the rollout was made,
 * so an interval's counts are the difference of two readings. Blocks on the cluster.
 */
public final class RolloutCounts {
  /** Where the merged shadow agreement of the canary is kept in a reading. */
  public static final String SHADOW = "@shadow-agreement";
  private final StateStore store;

  public RolloutCounts(StateStore store) {
    this.store = requireNonNull(store, "store");
  }

  /** The rollout's counts by variant, plus the canary's shadow agreement under {@link #SHADOW}. */
  public Map<String, VariantTally> read(RolloutRecord rollout) {
    String own = rollout.id() + "|";
    String shadow = ShadowMirror.agreementId(rollout.spec().endpoint(), rollout.spec().canary()) + "|";
    Map<String, VariantTally> merged = new HashMap<>();
    store.all(StateKind.EXPERIMENT_COUNTS).forEach((key, json) -> {
      if (key.startsWith(own)) {
        MemberCounts.fromJson(json).variants().forEach((v, t) -> merged.merge(v, t, VariantTally::merge));
      } else if (key.startsWith(shadow)) {
        MemberCounts.fromJson(json).variants().values().forEach(t -> merged.merge(SHADOW, t, VariantTally::merge));
      }
    });
    return merged;
  }
}
