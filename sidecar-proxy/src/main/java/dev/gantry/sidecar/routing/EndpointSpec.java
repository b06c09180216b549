package dev.gantry.sidecar.routing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An endpoint as an admin writes it (JSON or YAML, read by {@link EndpointSpecParser}); {@link #problems()} checks
 * it and {@link Endpoint#initial} turns a valid one into what the router uses. For example:
 *
 * <pre>
 * name: churn
 * sticky_key: {header: x-user-id}
 * allow_override: true
 * variants:
 *   - {name: stable, model: churn, version: "3", weight: 90}
 *   - {name: canary, model: churn, version: "4", upstream: "canary-runner:8001", weight: 10}
 * </pre>
 *
 * @param name the model name clients call
 * @param salt what keys are hashed with; absent means the endpoint's name
 * @param stickyKey where a request's sticky key comes from; absent means every request is assigned at random
 * @param allowOverride whether {@code x-gantry-variant: <name>} may pin a request to a variant; absent means no
 * @param variants the variants, in the order their buckets are first laid out
 * @param rolloutPolicy how a new version of the model behind one variant is rolled out; absent: none
 */
public record EndpointSpec(String name, String salt, StickyKeySpec stickyKey, Boolean allowOverride,
    List<VariantSpec> variants, dev.gantry.sidecar.rollout.RolloutPolicy rolloutPolicy) {
  private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  private static final java.util.regex.Pattern VARIANT_NAME =
      java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  public EndpointSpec {
    variants = variants == null ? null : Collections.unmodifiableList(new ArrayList<>(variants));
  }

  /** An endpoint without a rollout policy. */
  public EndpointSpec(String name, String salt, StickyKeySpec stickyKey, Boolean allowOverride,
      List<VariantSpec> variants) {
    this(name, salt, stickyKey, allowOverride, variants, null);
  }

  /** The same endpoint with other variants. */
  public EndpointSpec withVariants(List<VariantSpec> replaced) {
    return new EndpointSpec(name, salt, stickyKey, allowOverride, replaced, rolloutPolicy);
  }

  /** The same endpoint under another name. */
  public EndpointSpec named(String other) {
    return new EndpointSpec(other, salt, stickyKey, allowOverride, variants, rolloutPolicy);
  }

  /** Everything wrong with this spec, each naming its field's path; empty when it is valid. */
  public List<SpecProblem> problems() {
    List<SpecProblem> problems = new ArrayList<>();
    if (requireText(problems, "name", name) && !NAME.matcher(name).matches()) {
      problems.add(new SpecProblem("name", "must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or"
          + " digit (it is a model name in URLs and a metric label), got '" + name + "'"));
    }
    if (salt != null && salt.isEmpty()) {
      problems.add(new SpecProblem("salt", "must not be empty (leave it out to use the endpoint's name)"));
    }
    if (stickyKey != null) {
      checkStickyKey(problems);
    }
    if (variants == null || variants.isEmpty()) {
      problems.add(new SpecProblem("variants", "at least one variant is required"));
      return problems;
    }
    Map<String, Integer> firstIndexOfName = new HashMap<>();
    int sum = 0;
    for (int i = 0; i < variants.size(); i++) {
      VariantSpec v = variants.get(i);
      String path = "variants[" + i + "]";
      if (v == null) {
        problems.add(new SpecProblem(path, "must be a variant, not null"));
        continue;
      }
      if (requireText(problems, path + ".name", v.name()) && !VARIANT_NAME.matcher(v.name()).matches()) {
        problems.add(new SpecProblem(path + ".name", "must be 1-64 letters, digits, '.', '_' or '-', starting with a"
            + " letter or digit (it is a header value and a metric label), got '" + v.name() + "'"));
      } else if (v.name() != null && !v.name().isBlank()) {
        Integer first = firstIndexOfName.putIfAbsent(v.name(), i);
        if (first != null) {
          problems.add(new SpecProblem(path + ".name", "'" + v.name() + "' is already the name of variants[" + first
              + "]"));
        }
      }
      if (requireText(problems, path + ".model", v.model()) && v.model().length() > 256) {
        problems.add(new SpecProblem(path + ".model", "must be at most 256 characters"));
      }
      if (v.version() != null && v.version().isBlank()) {
        problems.add(new SpecProblem(path + ".version", "must not be empty (leave it out for the default)"));
      }
      try {
        Upstream.parse(v.upstream());
      } catch (IllegalArgumentException e) {
        problems.add(new SpecProblem(path + ".upstream", e.getMessage()));
      }
      if (v.weight() == null) {
        problems.add(new SpecProblem(path + ".weight", "is required (a whole percent from 0 to 100)"));
      } else if (v.weight() < 0 || v.weight() > 100) {
        problems.add(new SpecProblem(path + ".weight", "must be a whole percent from 0 to 100, got " + v.weight()));
      } else {
        sum += v.weight();
      }
    }
    if (problems.stream().noneMatch(p -> p.path().endsWith(".weight")) && sum != 100) {
      problems.add(new SpecProblem("variants", "weights must sum to exactly 100, these sum to " + sum));
    }
    if (rolloutPolicy != null) {
      problems.addAll(rolloutPolicy.problems(name, variants));
    }
    return problems;
  }

  private void checkStickyKey(List<SpecProblem> problems) {
    int given = 0;
    for (String[] source : new String[][] {{"header", stickyKey.header()}, {"cookie", stickyKey.cookie()},
        {"metadata", stickyKey.metadata()}}) {
      if (source[1] != null) {
        given++;
        if (source[1].isBlank() || source[1].chars().anyMatch(c -> c <= ' ' || c == ';' || c == ',')) {
          problems.add(new SpecProblem("sticky_key." + source[0], "must be a " + source[0]
              + " name without spaces, ',' or ';', got '" + source[1] + "'"));
        }
      }
    }
    if (given != 1) {
      problems.add(new SpecProblem("sticky_key", "must name exactly one of header, cookie or metadata, names "
          + given));
    }
  }

  private static boolean requireText(List<SpecProblem> problems, String path, String value) {
    if (value == null || value.isBlank()) {
      problems.add(new SpecProblem(path, "is required and must not be empty"));
      return false;
    }
    return true;
  }
}
