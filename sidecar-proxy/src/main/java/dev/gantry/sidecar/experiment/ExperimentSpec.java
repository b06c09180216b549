package dev.gantry.sidecar.experiment;

import dev.gantry.sidecar.routing.SpecProblem;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * An endpoint's split declared an A/B experiment, as an admin writes it:
 *
 * <pre>
 * name: churn               # the endpoint whose split is the experiment
 * control: champion         # the variant the others are compared with
 * goal: reward              # reward (sent back by clients), error_rate or latency
 * alpha: 0.05               # 1 − the coverage of the always-valid intervals
 * planned_samples: 10000    # requests in all where the intervals should be tightest
 * min_samples: 100          # per variant, before any difference is called
 * feedback_window_s: 3600   # feedback is taken this long after its request
 * </pre>
 */
public record ExperimentSpec(String name, String control, String goal, Double alpha, Long plannedSamples,
    Long minSamples, Integer feedbackWindowS) {
  /** What an experiment compares. */
  public enum Goal { REWARD, ERROR_RATE, LATENCY }

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  public double alphaOrDefault() {
    return alpha == null ? 0.05 : alpha;
  }

  public long plannedSamplesOrDefault() {
    return plannedSamples == null ? 10_000 : plannedSamples;
  }

  public long minSamplesOrDefault() {
    return minSamples == null ? 100 : minSamples;
  }

  public int feedbackWindowSOrDefault() {
    return feedbackWindowS == null ? 3600 : feedbackWindowS;
  }

  /** The goal; call only on a valid spec. */
  public Goal goalValue() {
    return Goal.valueOf(goal.toUpperCase(Locale.ROOT));
  }

  /** Everything wrong with this spec on its own, each naming its field; empty when it is valid. */
  public List<SpecProblem> problems() {
    List<SpecProblem> problems = new ArrayList<>();
    if (name == null || !NAME.matcher(name).matches()) {
      problems.add(new SpecProblem("name", "must be the endpoint's name, got " + (name == null ? "nothing"
          : "'" + name + "'")));
    }
    if (control == null || control.isBlank()) {
      problems.add(new SpecProblem("control", "is required: the variant the others are compared with"));
    }
    if (goal == null || List.of("reward", "error_rate", "latency").stream().noneMatch(g -> g.equals(goal))) {
      problems.add(new SpecProblem("goal", "must be reward, error_rate or latency, got " + (goal == null ? "nothing"
          : "'" + goal + "'")));
    }
    if (alpha != null && !(alpha > 0 && alpha <= 0.5)) {
      problems.add(new SpecProblem("alpha", "must be above 0 and at most 0.5, got " + alpha));
    }
    if (plannedSamples != null && plannedSamples < 100) {
      problems.add(new SpecProblem("planned_samples", "must be at least 100, got " + plannedSamples));
    }
    if (minSamples != null && minSamples < 2) {
      problems.add(new SpecProblem("min_samples", "must be at least 2, got " + minSamples));
    }
    if (feedbackWindowS != null && (feedbackWindowS < 1 || feedbackWindowS > 7 * 24 * 3600)) {
      problems.add(new SpecProblem("feedback_window_s", "must be from 1 s to 7 days, got " + feedbackWindowS));
    }
    return problems;
  }
}
