package dev.gantry.sidecar.shadow;

import dev.gantry.sidecar.routing.SpecProblem;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A shadow as an admin writes it: a share of an endpoint's requests is copied to one of its variants (usually one of
 * weight 0, kept warm for this), and each copy's answer is compared with the answer the client got. For example:
 *
 * <pre>
 * name: churn            # the endpoint whose traffic is mirrored
 * variant: challenger    # the variant that receives the copies
 * percent: 20            # of the endpoint's requests (0 to 100, fractions allowed)
 * timeout_ms: 1000       # a copy's own deadline
 * max_in_flight: 32      # copies outstanding at once; beyond, copies are dropped and counted
 * keep_disagreements: 100
 * </pre>
 *
 * A request that the split sent to the shadow variant itself is not copied.
 */
public record ShadowSpec(String name, String variant, Double percent, Integer timeoutMs, Integer maxInFlight,
    Integer keepDisagreements) {
  static final int DEFAULT_TIMEOUT_MS = 1000;
  static final int DEFAULT_MAX_IN_FLIGHT = 32;
  static final int DEFAULT_KEEP = 100;
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  /** A copy's deadline. */
  public int timeoutMsOrDefault() {
    return timeoutMs == null ? DEFAULT_TIMEOUT_MS : timeoutMs;
  }

  /** Copies outstanding at once. */
  public int maxInFlightOrDefault() {
    return maxInFlight == null ? DEFAULT_MAX_IN_FLIGHT : maxInFlight;
  }

  /** Disagreements kept for the admin API. */
  public int keepDisagreementsOrDefault() {
    return keepDisagreements == null ? DEFAULT_KEEP : keepDisagreements;
  }

  /** Everything wrong with this spec on its own, each naming its field; empty when it is valid. */
  public List<SpecProblem> problems() {
    List<SpecProblem> problems = new ArrayList<>();
    if (name == null || name.isBlank()) {
      problems.add(new SpecProblem("name", "is required: the endpoint whose requests are copied"));
    } else if (!NAME.matcher(name).matches()) {
      problems.add(new SpecProblem("name", "must be an endpoint name (letters, digits, '.', '_', '-'), got '" + name
          + "'"));
    }
    if (variant == null || variant.isBlank()) {
      problems.add(new SpecProblem("variant", "is required: the endpoint's variant that receives the copies"));
    }
    if (percent == null) {
      problems.add(new SpecProblem("percent", "is required: the share of requests copied, 0 to 100"));
    } else if (!(percent >= 0 && percent <= 100)) {
      problems.add(new SpecProblem("percent", "must be from 0 to 100, got " + percent));
    }
    range(problems, "timeout_ms", timeoutMs, 1, 60_000);
    range(problems, "max_in_flight", maxInFlight, 1, 10_000);
    range(problems, "keep_disagreements", keepDisagreements, 0, 10_000);
    return problems;
  }

  private static void range(List<SpecProblem> problems, String field, Integer value, int min, int max) {
    if (value != null && (value < min || value > max)) {
      problems.add(new SpecProblem(field, "must be a whole number from " + min + " to " + max + ", got " + value));
    }
  }
}
