package dev.gantry.sidecar.cluster;

/**
 * The kinds of cluster state, one Hazelcast map each (named {@code gantry.<kind>}, backed up on at least one other
 * member). Each entry is one declarative object, keyed by its name, stored as a JSON document.
 */
public enum StateKind {
  /** Endpoints and their variants ({@code dev.gantry.sidecar.routing}). */
  ENDPOINTS("endpoints"),
  /** Shadow traffic specs. */
  SHADOWS("shadows"),
  /** A/B experiments. */
  EXPERIMENTS("experiments"),
  /** Canary rollouts. */
  ROLLOUTS("rollouts"),
  /** Where each rollout stands, written after every transition by its leader (or a person's command). */
  ROLLOUT_STATUS("rollout-status"),
  /** Which member drives each rollout, with its fencing epoch. */
  ROLLOUT_LEASES("rollout-leases"),
  /** Each member's running counts of each experiment, keyed {@code experiment-id|member}. */
  EXPERIMENT_COUNTS("experiment-counts"),
  /**
   * The versions each member's runner serves of each model it follows with {@code on_new_version: rollout}, keyed
   * {@code model|member}: what a candidate's rollout waits for (every member's runner has the candidate loaded).
   */
  MODEL_VERSIONS("model-versions"),
  /**
   * The version of each model followed by a rollout policy that the cluster serves, keyed by model: set by the first
   * report and by each promotion. A runner that starts while its alias names another version is made to serve it.
   */
  ACCEPTED_VERSIONS("accepted-versions"),
  /** The rollouts of candidate versions started by endpoints' rollout policies, keyed by rollout name. */
  ALIAS_ROLLOUTS("alias-rollouts"),
  /** Which variant served a request id, for feedback; entries expire. */
  FEEDBACK("feedback");

  private final String plural;

  StateKind(String plural) {
    this.plural = plural;
  }

  /** The kind as the admin API and the CLI name it: {@code endpoints}. */
  public String plural() {
    return plural;
  }

  /** The Hazelcast map that holds this kind. */
  public String mapName() {
    return "gantry." + plural;
  }
}
