package dev.gantry.sidecar.rollout;

import dev.gantry.sidecar.routing.SpecProblem;
import dev.gantry.sidecar.routing.VariantSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An endpoint's rollout policy: how a new version of the model behind one of its variants is rolled out when the
 * runner serves that model from a watched alias or stage with {@code on_new_version: rollout}. Written inside the
 * endpoint:
 *
 * <pre>
 * rollout_policy:
 *   variant: champion        # the variant that follows the alias (default: the only variant with no version)
 *   steps: [{weight: 10, pause: 30s}, {weight: 50, pause: 30s}, {weight: 100, pause: 30s}]
 *   analysis: {interval: 10s, min_requests: 50, checks: [{metric: error_rate_ratio, max: 2}]}
 *   webhooks: [{name: gate, type: confirm-promotion, url: http://approvals/gate}]
 * </pre>
 *
 * <p>Each candidate version becomes a canary variant of the endpoint and a rollout named {@code <endpoint>-v<version>}
 * with these steps, analysis and webhooks, the followed variant as stable ({@link AliasRollouts}). The split is the
 * sidecar's: both versions run in the pod's own runner.
 *
 * @param variant the endpoint's variant whose model follows the alias
 * @param steps the canary's weights and pauses, as a rollout's
 * @param analysis how intervals are judged, as a rollout's (absent: the defaults)
 * @param webhooks hooks called at Flagger's points, as a rollout's
 */
public record RolloutPolicy(String variant, List<RolloutSpec.StepSpec> steps, RolloutSpec.AnalysisSpec analysis,
    List<RolloutSpec.WebhookSpec> webhooks) {

  public RolloutPolicy {
    steps = steps == null ? null : List.copyOf(steps);
    webhooks = webhooks == null ? List.of() : List.copyOf(webhooks);
  }

  /** The variant the policy follows: the one it names, or the endpoint's only variant with no version. */
  public Optional<VariantSpec> followed(List<VariantSpec> variants) {
    if (variants == null) {
      return Optional.empty();
    }
    if (variant != null) {
      return variants.stream().filter(v -> v != null && variant.equals(v.name())).findFirst();
    }
    List<VariantSpec> unversioned = variants.stream().filter(v -> v != null && v.version() == null).toList();
    return unversioned.size() == 1 ? Optional.of(unversioned.get(0)) : Optional.empty();
  }

  /** The rollout of one candidate version. */
  public RolloutSpec rollout(String endpoint, String stable, String canary, long version) {
    return new RolloutSpec(rolloutName(endpoint, version), endpoint, stable, canary, steps, analysis, webhooks,
        null, null);
  }

  /** The rollout's name: {@code <endpoint>-v<version>}. */
  public static String rolloutName(String endpoint, long version) {
    return endpoint + "-v" + version;
  }

  /** The canary variant's name: {@code <variant>-v<version>} (the variant's name shortened to fit). */
  public static String canaryName(String variant, long version) {
    String suffix = "-v" + version;
    return variant.substring(0, Math.min(variant.length(), 64 - suffix.length())) + suffix;
  }

  /** Whether {@code other} is a canary this policy made of {@code followed}'s model. */
  private static boolean isCanary(VariantSpec followed, VariantSpec other) {
    return other.version() != null && other.version().matches("[0-9]{1,18}") && other.model() != null
        && other.model().equals(followed.model())
        && other.name().equals(canaryName(followed.name(), Long.parseLong(other.version())));
  }

  /** Everything wrong with the policy in its endpoint, each path under {@code rollout_policy}. */
  public List<SpecProblem> problems(String endpoint, List<VariantSpec> variants) {
    List<SpecProblem> p = new ArrayList<>();
    Optional<VariantSpec> followed = followed(variants);
    if (followed.isEmpty()) {
      p.add(new SpecProblem("rollout_policy.variant", variant != null
          ? "names no variant of this endpoint: '" + variant + "'"
          : "is required: name the variant whose model follows an alias (the endpoint does not have exactly one"
              + " variant without a version)"));
    } else {
      VariantSpec v = followed.get();
      if (v.version() != null) {
        p.add(new SpecProblem("rollout_policy.variant", "variant '" + v.name() + "' pins version " + v.version()
            + "; the followed variant names no version, so that it serves whatever version the alias settles on"));
      }
      if (v.upstream() != null && !v.upstream().equals("local")) {
        p.add(new SpecProblem("rollout_policy.variant", "variant '" + v.name() + "' is served by " + v.upstream()
            + "; a rollout policy follows a model of the pod's own runner"));
      }
      for (VariantSpec other : variants) {
        if (other != null && other != v && other.weight() != null && other.weight() > 0 && !isCanary(v, other)) {
          p.add(new SpecProblem("rollout_policy", "variant '" + other.name() + "' has weight " + other.weight()
              + ": a rollout moves traffic between the followed variant and its canary only, so give the other"
              + " variants weight 0"));
        }
      }
    }
    String name = endpoint == null ? "endpoint" : endpoint;
    String stable = followed.map(VariantSpec::name).orElse("stable");
    for (SpecProblem problem : rollout(name, stable, canaryName(stable, 1), 1).problems()) {
      if (problem.path().startsWith("steps") || problem.path().startsWith("analysis")
          || problem.path().startsWith("webhooks")) {
        p.add(new SpecProblem("rollout_policy." + problem.path(), problem.message()));
      }
    }
    return p;
  }
}
