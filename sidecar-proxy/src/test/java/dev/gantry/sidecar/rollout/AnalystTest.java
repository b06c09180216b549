package dev.gantry.sidecar.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gantry.sidecar.core.SpecReader;
import dev.gantry.sidecar.experiment.Summary;
import dev.gantry.sidecar.experiment.VariantTally;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** An interval's analysis from merged counts: the shadow agreement check, and checks turned off by the spec. */
class AnalystTest {
  static Vertx vertx;
  static Analyst analyst;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    analyst = new Analyst(new PrometheusSource(WebClient.create(vertx)));
  }

  @AfterAll
  static void stop() {
    vertx.close().await();
  }

  static RolloutSpec spec(String checks) {
    return new SpecReader<>(RolloutSpec.class, "rollout spec").yaml("""
        name: r
        endpoint: e
        stable: s
        canary: c
        steps: [{weight: 10}]
        analysis:
          min_requests: 10
          sequential: {enabled: false}
          checks: %s
        """.formatted(checks));
  }

  /** Answers: {@code ok} successes at 2 ms and {@code bad} errors. */
  static VariantTally tally(int ok, int bad) {
    long[] buckets = new long[VariantTally.LATENCY_BOUNDS_MS.length + 1];
    buckets[VariantTally.bucketOf(2)] = ok;
    return new VariantTally(ok + bad, ok, bad, new Summary(ok, 2.0 * ok, 4.0 * ok), buckets, Summary.EMPTY);
  }

  @Test
  void shadowAgreementPassesFailsAndIsInconclusiveWithTooFewComparisons() {
    RolloutSpec spec = spec("[{metric: shadow_agreement, min: 0.9}]");
    Map<String, VariantTally> base = Map.of("s", tally(100, 0), "c", tally(20, 0));
    Analysis agree = analyst.analyse(spec, with(base, tally(95, 5)), Map.of(), Map.of()).await();
    Analysis disagree = analyst.analyse(spec, with(base, tally(70, 30)), Map.of(), Map.of()).await();
    Analysis few = analyst.analyse(spec, with(base, tally(3, 0)), Map.of(), Map.of()).await();
    assertThat(agree.verdict()).isEqualTo(Analysis.Verdict.PASS);
    assertThat(agree.checks()).singleElement().satisfies(c -> assertThat(c.value().getAsDouble()).isEqualTo(0.95));
    assertThat(disagree.verdict()).isEqualTo(Analysis.Verdict.FAIL);
    assertThat(few.verdict()).isEqualTo(Analysis.Verdict.INCONCLUSIVE);
    assertThat(few.checks().get(0).value()).isEmpty();
  }

  @Test
  void aStableWithoutTrafficInTheIntervalIsComparedOnItsCountsSinceTheRolloutBegan() {
    RolloutSpec spec = spec("[{metric: error_rate_ratio, max: 2}]");
    // stable served 200 earlier and nothing in this interval (the canary is at 100 %)
    Map<String, VariantTally> start = Map.of("s", tally(200, 0), "c", tally(0, 0));
    Map<String, VariantTally> now = Map.of("s", tally(200, 0), "c", tally(50, 0));
    Analysis a = analyst.analyse(spec, now, start, start).await();
    assertThat(a.verdict()).isEqualTo(Analysis.Verdict.PASS);
  }

  private static Map<String, VariantTally> with(Map<String, VariantTally> base, VariantTally shadow) {
    Map<String, VariantTally> m = new java.util.HashMap<>(base);
    m.put(RolloutCounts.SHADOW, shadow);
    return m;
  }
}
