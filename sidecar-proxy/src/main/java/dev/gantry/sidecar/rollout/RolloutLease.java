package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.core.Documents;

/**
 * Who drives a rollout (the {@code gantry.rollout-leases} map, keyed by the rollout's name): the leader renews it by
 * writing {@code beat + 1}; a member that sees no beat for a lease period takes it over by writing {@code epoch + 1}
 * (compare-and-set, so one member wins), and then fences the old leader by writing that epoch into the rollout's
 * status. Staleness is judged on each member's own monotonic clock, never by comparing wall clocks across pods.
 *
 * @param leader the member driving the rollout
 * @param epoch raised at every change of leader
 * @param beat raised at every renewal
 */
public record RolloutLease(String leader, long epoch, long beat) {
  public RolloutLease {
    requireNonNull(leader, "leader");
  }

  public String toJson() {
    return Documents.write(this);
  }

  public static RolloutLease fromJson(String json) {
    return Documents.read(json, RolloutLease.class);
  }
}
