package dev.gantry.sidecar.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gantry.sidecar.routing.EndpointSpec;
import dev.gantry.sidecar.routing.EndpointSpecParser;
import dev.gantry.sidecar.routing.SpecProblem;
import java.util.List;
import org.junit.jupiter.api.Test;

/** An endpoint's rollout policy as an admin writes it: what it follows, and each mistake named by its path. */
class RolloutPolicyTest {
  static final String POLICY = "rollout_policy:\n  steps: [{weight: 10, pause: 30s}, {weight: 100, pause: 30s}]\n";

  static List<String> problems(String variants, String policy) {
    EndpointSpec spec = new EndpointSpecParser().yaml("name: churn\nvariants:\n" + variants + policy);
    return spec.problems().stream().map(SpecProblem::toString).toList();
  }

  @Test
  void aPolicyFollowsTheOnlyVariantWithoutAVersionAndMakesRolloutsNamedByVersion() {
    EndpointSpec spec = new EndpointSpecParser().yaml("""
        name: churn
        variants:
          - {name: champion, model: churn-model, weight: 100}
          - {name: pinned, model: churn-model, version: "1", weight: 0}
        rollout_policy:
          steps: [{weight: 10, pause: 30s}, {weight: 100, pause: until_promoted}]
          analysis: {interval: 5s, min_requests: 100}
          webhooks: [{name: gate, type: confirm-promotion, url: "http://gate/ok"}]
        """);
    assertThat(spec.problems()).isEmpty();
    RolloutPolicy policy = spec.rolloutPolicy();
    assertThat(policy.followed(spec.variants()).orElseThrow().name()).isEqualTo("champion");
    RolloutSpec rollout = policy.rollout("churn", "champion", RolloutPolicy.canaryName("champion", 7), 7);
    assertThat(rollout.name()).isEqualTo("churn-v7");
    assertThat(rollout.canary()).isEqualTo("champion-v7");
    assertThat(rollout.stable()).isEqualTo("champion");
    assertThat(rollout.steps()).hasSize(2);
    assertThat(rollout.minRequests()).isEqualTo(100);
    assertThat(rollout.webhooks()).hasSize(1);
    assertThat(rollout.problems()).isEmpty();
    // a long variant name is shortened to keep the canary's name a valid variant name
    assertThat(RolloutPolicy.canaryName("v".repeat(64), 123)).hasSize(64).endsWith("-v123");
  }

  @Test
  void eachMistakeIsNamedByItsPath() {
    assertThat(problems("""
          - {name: a, model: m, weight: 50}
          - {name: b, model: m, weight: 50}
        """, POLICY)).anyMatch(p -> p.contains("rollout_policy.variant") && p.contains("is required"));
    assertThat(problems("""
          - {name: a, model: m, version: "3", weight: 100}
        """, POLICY + "  variant: a\n")).anyMatch(p -> p.contains("rollout_policy.variant") && p.contains("pins"
            + " version 3"));
    assertThat(problems("""
          - {name: a, model: m, upstream: "other:8001", weight: 100}
        """, POLICY)).anyMatch(p -> p.contains("a rollout policy follows a model of the pod's own runner"));
    assertThat(problems("""
          - {name: a, model: m, weight: 90}
          - {name: b, model: n, version: "1", weight: 10}
        """, POLICY)).anyMatch(p -> p.contains("variant 'b' has weight 10"));
    assertThat(problems("""
          - {name: a, model: m, weight: 100}
        """, POLICY + "  variant: nope\n")).anyMatch(p -> p.contains("names no variant of this endpoint: 'nope'"));
    assertThat(problems("""
          - {name: a, model: m, weight: 100}
        """, "rollout_policy:\n  steps: [{weight: 50}, {weight: 20}]\n  analysis: {interval: 10ms}\n")).anyMatch(p -> p.contains("rollout_policy.steps[1].weight"))
        .anyMatch(p -> p.contains("rollout_policy.analysis.interval"));
  }

  @Test
  void theCanaryItMadeMayTakeTrafficBesideTheFollowedVariant() {
    assertThat(problems("""
          - {name: a, model: m, weight: 80}
          - {name: a-v4, model: m, version: "4", weight: 20}
        """, POLICY)).isEmpty();
  }
}
