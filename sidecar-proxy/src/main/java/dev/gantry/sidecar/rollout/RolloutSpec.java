package dev.gantry.sidecar.rollout;

import dev.gantry.sidecar.routing.SpecProblem;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A canary rollout, as an admin writes it (YAML or JSON; durations as {@code 30s}, {@code 5m}):
 *
 * <pre>
 * name: churn-v2
 * endpoint: churn            # the endpoint whose split the rollout moves
 * stable: champion           # its variant serving now
 * canary: challenger         # the variant rolled out
 * steps:                     # canary weight, held for a pause (a duration, or until_promoted)
 *   - {weight: 5, pause: 1m}
 *   - {weight: 10, pause: 1m}
 *   - {weight: 25, pause: 1m}
 *   - {weight: 50, pause: 1m}
 *   - {weight: 100, pause: 1m}
 * analysis:
 *   interval: 30s
 *   min_requests: 50         # canary requests an interval needs to judge it
 *   failure_threshold: 2     # failed intervals in a step that roll back
 *   inconclusive_limit: 10   # intervals without enough data in a row ...
 *   on_inconclusive: wait    # ... then wait or roll_back
 *   progress_deadline: 10m
 *   checks:
 *     - {metric: error_rate_ratio, max: 2}
 *     - {metric: latency_p99_ratio, max: 1.5}
 *     - {name: canary-5xx, query: 'sum(rate(...{variant="{{canary}}"}[1m]))', max: 0.05}
 *   sequential: {alpha: 0.05, planned_requests: 20000}
 *   prometheus: {url: http://prometheus:9090, timeout: 5s}
 * webhooks:
 *   - {name: gate, type: confirm-promotion, url: http://approvals/gate, timeout: 5s, retries: 2}
 * </pre>
 *
 * @param name the rollout's name
 * @param endpoint the endpoint it moves traffic in
 * @param stable the variant serving now
 * @param canary the variant rolled out
 * @param steps the canary weights, rising, each with its pause
 * @param analysis how each interval is judged; absent: the defaults
 * @param webhooks hooks called at Flagger's points
 * @param traffic where the split is made: {@code sidecar} (the default), {@code istio} or {@code both}
 * @param istio the Istio VirtualService to drive, with {@code traffic: istio} or {@code both}
 */
public record RolloutSpec(String name, String endpoint, String stable, String canary, List<StepSpec> steps,
    AnalysisSpec analysis, List<WebhookSpec> webhooks, String traffic,
    dev.gantry.sidecar.rollout.istio.IstioSplitSpec istio) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  /** What a step's pause is when it waits for a person. */
  public static final String UNTIL_PROMOTED = "until_promoted";

  public RolloutSpec {
    steps = steps == null ? null : List.copyOf(steps);
    webhooks = webhooks == null ? List.of() : List.copyOf(webhooks);
  }

  /** One step: the canary's weight, held for a pause. */
  public record StepSpec(Integer weight, String pause) {}

  /**
   * How intervals are judged.
   *
   * @param interval how long an analysis interval is (default 30s)
   * @param minRequests canary requests an interval needs (default 20); fewer: inconclusive
   * @param failureThreshold failed intervals in a step before rollback (default 2)
   * @param inconclusiveLimit inconclusive intervals in a row before {@code onInconclusive} (default 10)
   * @param onInconclusive {@code wait} (default) or {@code roll_back}
   * @param progressDeadline how long past its pause a step may go without passing (default 10m)
   * @param checks the checks (default: error_rate_ratio at most 2 and latency_p99_ratio at most 2)
   * @param sequential the sequential error-rate test (on by default)
   * @param prometheus where PromQL checks are sent
   */
  public record AnalysisSpec(String interval, Long minRequests, Integer failureThreshold, Integer inconclusiveLimit,
      String onInconclusive, String progressDeadline, List<CheckSpec> checks, SequentialSpec sequential,
      PrometheusSpec prometheus) {}

  /**
   * One check: a built-in metric of Gantry's own counts, or a PromQL query, with the range its value must be in.
   *
   * @param metric a built-in metric (see {@link #BUILT_IN})
   * @param name a PromQL check's name
   * @param query a PromQL query; {@code {{endpoint}}}, {@code {{stable}}}, {@code {{canary}}}, {@code {{rollout}}}
   *     and {@code {{interval}}} are replaced
   * @param min the lowest passing value
   * @param max the highest passing value
   */
  public record CheckSpec(String metric, String name, String query, Double min, Double max) {
    /** The built-in metrics, and whether their range is a minimum (true) or a maximum. */
    public static final Map<String, Boolean> BUILT_IN = Map.of("error_rate", false, "error_rate_ratio", false,
        "latency_p95_ms", false, "latency_p99_ms", false, "latency_p95_ratio", false, "latency_p99_ratio", false,
        "shadow_agreement", true);

    /** The check's name in decisions and metrics. */
    public String label() {
      return metric != null ? metric : name;
    }
  }

  /** The sequential test of the canary's error rate against stable's. */
  public record SequentialSpec(Boolean enabled, Double alpha, Long plannedRequests) {}

  /** A Prometheus server's HTTP API. */
  public record PrometheusSpec(String url, String timeout) {}

  /**
   * A webhook.
   *
   * @param name its name in decisions
   * @param type {@code confirm-rollout}, {@code pre-rollout}, {@code confirm-promotion}, {@code rollback} or
   *     {@code event}
   * @param url where it is POSTed
   * @param timeout per try (default 10s)
   * @param retries tries after the first (default 2)
   * @param metadata sent along in the payload
   */
  public record WebhookSpec(String name, String type, String url, String timeout, Integer retries,
      Map<String, String> metadata) {}

  /** The webhook types, with Flagger's meanings. */
  public static final Set<String> HOOK_TYPES = Set.of("confirm-rollout", "pre-rollout", "confirm-promotion",
      "rollback", "event");

  // ---- defaults, for a valid spec ----

  public AnalysisSpec analysisOrDefault() {
    return analysis == null ? new AnalysisSpec(null, null, null, null, null, null, null, null, null) : analysis;
  }

  public Duration interval() {
    return Durations.parse(Optional.ofNullable(analysisOrDefault().interval()).orElse("30s"));
  }

  public long minRequests() {
    return Optional.ofNullable(analysisOrDefault().minRequests()).orElse(20L);
  }

  public List<CheckSpec> checks() {
    List<CheckSpec> checks = analysisOrDefault().checks();
    return checks == null ? List.of(new CheckSpec("error_rate_ratio", null, null, null, 2.0),
        new CheckSpec("latency_p99_ratio", null, null, null, 2.0)) : checks;
  }

  public String trafficOrDefault() {
    return traffic == null ? "sidecar" : traffic;
  }

  /** Whether the in-sidecar split moves. */
  public boolean movesSidecarSplit() {
    return !trafficOrDefault().equals("istio");
  }

  /** The plan the state machine follows. */
  public RolloutPlan plan() {
    AnalysisSpec a = analysisOrDefault();
    List<RolloutPlan.Step> planned = new ArrayList<>();
    for (StepSpec s : steps) {
      String pause = s.pause() == null ? "0s" : s.pause();
      planned.add(new RolloutPlan.Step(s.weight(), pause.equals(UNTIL_PROMOTED) ? Optional.empty()
          : Optional.of(Durations.parse(pause))));
    }
    return new RolloutPlan(planned, Optional.ofNullable(a.failureThreshold()).orElse(2),
        Optional.ofNullable(a.inconclusiveLimit()).orElse(10),
        "roll_back".equals(a.onInconclusive()) ? RolloutPlan.OnInconclusive.ROLL_BACK : RolloutPlan.OnInconclusive.WAIT,
        Durations.parse(Optional.ofNullable(a.progressDeadline()).orElse("10m")));
  }

  /** The thresholds of the built-in checks. */
  public Thresholds thresholds() {
    SequentialSpec seq = analysisOrDefault().sequential();
    return new Thresholds(max("error_rate"), max("error_rate_ratio"), max("latency_p95_ms"), max("latency_p99_ms"),
        max("latency_p99_ratio"), max("latency_p95_ratio"), seq == null || seq.alpha() == null ? 0.05 : seq.alpha(),
        seq == null || seq.plannedRequests() == null ? 10_000 : seq.plannedRequests(), minRequests());
  }

  /** Whether the sequential test runs. */
  public boolean sequentialTest() {
    SequentialSpec seq = analysisOrDefault().sequential();
    return seq == null || seq.enabled() == null || seq.enabled();
  }

  /** The minimum shadow agreement, when that check is asked for. */
  public OptionalDouble minShadowAgreement() {
    return checks().stream().filter(c -> "shadow_agreement".equals(c.metric()) && c.min() != null)
        .mapToDouble(CheckSpec::min).findFirst();
  }

  /** The PromQL checks. */
  public List<CheckSpec> queries() {
    return checks().stream().filter(c -> c.query() != null).toList();
  }

  private OptionalDouble max(String metric) {
    return checks().stream().filter(c -> metric.equals(c.metric()) && c.max() != null).mapToDouble(CheckSpec::max)
        .findFirst();
  }

  /** Everything wrong with the spec on its own, each naming its field; empty when valid. */
  public List<SpecProblem> problems() {
    List<SpecProblem> p = new ArrayList<>();
    if (name == null || !NAME.matcher(name).matches()) {
      p.add(new SpecProblem("name", "must be 1-128 letters, digits, '.', '_' or '-', got "
          + (name == null ? "nothing" : "'" + name + "'")));
    }
    require(p, "endpoint", endpoint, "the endpoint whose split the rollout moves");
    require(p, "stable", stable, "the variant serving now");
    require(p, "canary", canary, "the variant rolled out");
    if (stable != null && stable.equals(canary)) {
      p.add(new SpecProblem("canary", "must be another variant than stable ('" + stable + "')"));
    }
    checkSteps(p);
    checkAnalysis(p);
    for (int i = 0; i < webhooks.size(); i++) {
      checkHook(p, "webhooks[" + i + "]", webhooks.get(i));
    }
    if (traffic != null && !List.of("sidecar", "istio", "both").contains(traffic)) {
      p.add(new SpecProblem("traffic", "must be sidecar, istio or both, got '" + traffic + "'"));
    }
    if (!trafficOrDefault().equals("sidecar")) {
      if (istio == null) {
        p.add(new SpecProblem("istio", "is required with traffic: " + traffic + " (the VirtualService to drive)"));
      } else {
        istio.problems().forEach(m -> p.add(new SpecProblem("istio." + m.path(), m.message())));
      }
    } else if (istio != null) {
      p.add(new SpecProblem("traffic", "must be istio or both when an istio section is given"));
    }
    return p;
  }

  private static void require(List<SpecProblem> p, String field, String value, String what) {
    if (value == null || value.isBlank()) {
      p.add(new SpecProblem(field, "is required: " + what));
    }
  }

  private void checkSteps(List<SpecProblem> p) {
    if (steps == null || steps.isEmpty()) {
      p.add(new SpecProblem("steps", "at least one step is required, e.g. [{weight: 5, pause: 1m}, {weight: 50,"
          + " pause: 1m}, {weight: 100, pause: 1m}]"));
      return;
    }
    int last = 0;
    for (int i = 0; i < steps.size(); i++) {
      StepSpec s = steps.get(i);
      String path = "steps[" + i + "]";
      if (s == null || s.weight() == null || s.weight() < 1 || s.weight() > 100) {
        p.add(new SpecProblem(path + ".weight", "must be the canary's weight, 1 to 100"));
        continue;
      }
      if (s.weight() <= last) {
        p.add(new SpecProblem(path + ".weight", "must rise: " + s.weight() + " follows " + last));
      }
      last = s.weight();
      if (s.pause() != null && !s.pause().equals(UNTIL_PROMOTED)) {
        duration(p, path + ".pause", s.pause());
      }
    }
  }

  private void checkAnalysis(List<SpecProblem> p) {
    AnalysisSpec a = analysisOrDefault();
    if (a.interval() != null && duration(p, "analysis.interval", a.interval())
        && Durations.parse(a.interval()).toMillis() < 500) {
      p.add(new SpecProblem("analysis.interval", "must be at least 500ms"));
    }
    if (a.progressDeadline() != null) {
      duration(p, "analysis.progress_deadline", a.progressDeadline());
    }
    if (a.minRequests() != null && a.minRequests() < 1) {
      p.add(new SpecProblem("analysis.min_requests", "must be at least 1"));
    }
    if (a.failureThreshold() != null && a.failureThreshold() < 1) {
      p.add(new SpecProblem("analysis.failure_threshold", "must be at least 1"));
    }
    if (a.inconclusiveLimit() != null && a.inconclusiveLimit() < 1) {
      p.add(new SpecProblem("analysis.inconclusive_limit", "must be at least 1"));
    }
    if (a.onInconclusive() != null && !List.of("wait", "roll_back").contains(a.onInconclusive())) {
      p.add(new SpecProblem("analysis.on_inconclusive", "must be wait or roll_back, got '" + a.onInconclusive()
          + "'"));
    }
    if (a.sequential() != null && a.sequential().alpha() != null
        && !(a.sequential().alpha() > 0 && a.sequential().alpha() <= 0.5)) {
      p.add(new SpecProblem("analysis.sequential.alpha", "must be above 0 and at most 0.5"));
    }
    if (a.sequential() != null && a.sequential().plannedRequests() != null
        && a.sequential().plannedRequests() < 100) {
      p.add(new SpecProblem("analysis.sequential.planned_requests", "must be at least 100"));
    }
    List<CheckSpec> checks = checks();
    for (int i = 0; i < checks.size(); i++) {
      checkCheck(p, "analysis.checks[" + i + "]", checks.get(i), a.prometheus());
    }
    if (a.prometheus() != null) {
      if (a.prometheus().url() == null || !a.prometheus().url().matches("https?://\\S+")) {
        p.add(new SpecProblem("analysis.prometheus.url", "must be the server's http(s) URL, e.g."
            + " http://prometheus:9090"));
      }
      if (a.prometheus().timeout() != null) {
        duration(p, "analysis.prometheus.timeout", a.prometheus().timeout());
      }
    }
  }

  private static void checkCheck(List<SpecProblem> p, String path, CheckSpec c, PrometheusSpec prometheus) {
    if (c == null) {
      p.add(new SpecProblem(path, "is empty"));
      return;
    }
    if ((c.metric() == null) == (c.query() == null)) {
      p.add(new SpecProblem(path, "must have either metric (built-in: " + String.join(", ",
          new java.util.TreeSet<>(CheckSpec.BUILT_IN.keySet())) + ") or query (PromQL)"));
      return;
    }
    if (c.min() == null && c.max() == null) {
      p.add(new SpecProblem(path, "needs a range: min, max or both"));
    }
    if (c.min() != null && c.max() != null && c.min() > c.max()) {
      p.add(new SpecProblem(path, "min " + c.min() + " is above max " + c.max()));
    }
    if (c.metric() != null) {
      Boolean isMin = CheckSpec.BUILT_IN.get(c.metric());
      if (isMin == null) {
        p.add(new SpecProblem(path + ".metric", "'" + c.metric() + "' is not a built-in metric; they are "
            + String.join(", ", new java.util.TreeSet<>(CheckSpec.BUILT_IN.keySet()))
            + " (use query: for PromQL)"));
      } else if (isMin ? c.max() != null : c.min() != null) {
        p.add(new SpecProblem(path, c.metric() + " takes only " + (isMin ? "min" : "max")));
      }
    } else {
      if (c.name() == null || c.name().isBlank()) {
        p.add(new SpecProblem(path + ".name", "is required for a PromQL check"));
      }
      if (prometheus == null) {
        p.add(new SpecProblem("analysis.prometheus", "is required by the PromQL check " + path
            + " (e.g. {url: http://prometheus:9090})"));
      }
    }
  }

  private static void checkHook(List<SpecProblem> p, String path, WebhookSpec h) {
    if (h == null) {
      p.add(new SpecProblem(path, "is empty"));
      return;
    }
    require(p, path + ".name", h.name(), "the hook's name");
    if (h.type() == null || !HOOK_TYPES.contains(h.type())) {
      p.add(new SpecProblem(path + ".type", "must be one of " + String.join(", ", new java.util.TreeSet<>(HOOK_TYPES))
          + ", got " + (h.type() == null ? "nothing" : "'" + h.type() + "'")));
    }
    if (h.url() == null || !h.url().matches("https?://\\S+")) {
      p.add(new SpecProblem(path + ".url", "must be an http(s) URL"));
    }
    if (h.timeout() != null) {
      duration(p, path + ".timeout", h.timeout());
    }
    if (h.retries() != null && (h.retries() < 0 || h.retries() > 10)) {
      p.add(new SpecProblem(path + ".retries", "must be 0 to 10"));
    }
  }

  private static boolean duration(List<SpecProblem> p, String field, String value) {
    try {
      Durations.parse(value);
      return true;
    } catch (IllegalArgumentException e) {
      p.add(new SpecProblem(field, e.getMessage()));
      return false;
    }
  }
}
