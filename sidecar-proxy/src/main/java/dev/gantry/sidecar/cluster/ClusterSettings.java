package dev.gantry.sidecar.cluster;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/**
 * How a sidecar shares state with the others of its Deployment.
 *
 * @param enabled false: this sidecar keeps its state alone ({@link LocalStateStore}); true: it starts an embedded
 *     Hazelcast member ({@link HazelcastStateStore})
 * @param name the cluster name: members of other names never join, which keeps Deployments apart
 * @param host the address this member binds and is reached at
 * @param port the member port
 * @param members {@code host[:port]} of the members to join over TCP/IP (multicast is always off); empty: start
 *     alone, or by Kubernetes DNS when {@code kubernetesDns} is set
 * @param kubernetesDns the DNS name of a headless Service whose addresses are the members (instead of
 *     {@code members})
 * @param quorum the fewest members that may advance a rollout (Hazelcast split-brain protection of the rollout
 *     maps): a side of a split with fewer stops; 0 means a majority of {@code members} when they are listed, else 1
 */
public record ClusterSettings(boolean enabled, String name, String host, int port, List<String> members,
    Optional<String> kubernetesDns, int quorum) {

  public ClusterSettings(boolean enabled, String name, String host, int port, List<String> members,
      Optional<String> kubernetesDns) {
    this(enabled, name, host, port, members, kubernetesDns, 0);
  }

  /** The quorum in force: as set, or a majority of the listed members. */
  public int effectiveQuorum() {
    return quorum > 0 ? quorum : members.isEmpty() ? 1 : members.size() / 2 + 1;
  }

  public ClusterSettings {
    requireNonNull(name, "name");
    requireNonNull(host, "host");
    members = List.copyOf(members);
    requireNonNull(kubernetesDns, "kubernetesDns");
  }

  /** Clustering off: the state of this process alone. */
  public static ClusterSettings off() {
    return new ClusterSettings(false, "gantry", "127.0.0.1", 5701, List.of(), Optional.empty());
  }

  /** The store these settings describe, started (a Hazelcast member joins its cluster before this returns). */
  public StateStore start() {
    return enabled ? HazelcastStateStore.start(this) : new LocalStateStore();
  }
}
