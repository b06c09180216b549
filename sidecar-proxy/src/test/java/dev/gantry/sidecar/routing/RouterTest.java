package dev.gantry.sidecar.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.SidecarException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.random.RandomGenerator;
import org.apache.commons.math3.stat.inference.ChiSquareTest;
import org.junit.jupiter.api.Test;

class RouterTest {
  private static final int KEYS = 20_000;
  /** Below this p-value the observed split would be too unlikely under the weights. */
  private static final double ALPHA = 0.001;

  private final RandomGenerator random = new SplittableRandom(42);

  /** A sticky (header x-user-id) spec for endpoint churn with variants named and weighted in order. */
  static EndpointSpec spec(boolean allowOverride, Object... nameThenWeight) {
    List<VariantSpec> variants = new ArrayList<>();
    for (int i = 0; i < nameThenWeight.length; i += 2) {
      variants.add(new VariantSpec((String) nameThenWeight[i], "churn", null, null, (Integer) nameThenWeight[i + 1]));
    }
    return new EndpointSpec("churn", null, new StickyKeySpec("x-user-id", null, null), allowOverride, variants);
  }

  static Router router(Endpoint endpoint) {
    return new Router(Map.of(endpoint.name(), endpoint));
  }

  static String key(int i) {
    return "user-" + i;
  }

  /** Variant name per key for KEYS distinct keys. */
  static List<String> assign(Router router) {
    List<String> variants = new ArrayList<>(KEYS);
    RandomGenerator unused = new SplittableRandom(0);
    for (int i = 0; i < KEYS; i++) {
      variants.add(router.route("churn", key(i), null, unused).orElseThrow().variant().name());
    }
    return variants;
  }

  /** The chi-square p-value of observed counts against the endpoint's weights (variants of weight 0 left out). */
  static double pValue(Endpoint endpoint, List<String> assigned) {
    List<Variant> weighted = endpoint.variants().stream().filter(v -> v.weight() > 0).toList();
    double[] expected = weighted.stream().mapToDouble(v -> v.weight() / 100.0 * assigned.size()).toArray();
    long[] observed = weighted.stream().mapToLong(v -> assigned.stream().filter(v.name()::equals).count()).toArray();
    return new ChiSquareTest().chiSquareTest(expected, observed);
  }

  @Test
  void keyedAssignmentHonoursNinetyTenWithinStatisticalBounds() {
    Endpoint endpoint = Endpoint.initial(spec(false, "stable", 90, "canary", 10));
    assertThat(pValue(endpoint, assign(router(endpoint)))).isGreaterThan(ALPHA);
  }

  @Test
  void keyedAssignmentHonoursFiftyThirtyTwentyWithinStatisticalBounds() {
    Endpoint endpoint = Endpoint.initial(spec(false, "a", 50, "b", 30, "c", 20));
    assertThat(pValue(endpoint, assign(router(endpoint)))).isGreaterThan(ALPHA);
  }

  @Test
  void keyedAssignmentHonoursWeightsAfterARampHasFragmentedTheRanges() {
    Endpoint start = Endpoint.initial(spec(false, "a", 40, "b", 30, "c", 30));
    Endpoint ramped = Endpoint.revise(Endpoint.revise(start, spec(false, "a", 30, "b", 25, "c", 45)),
        spec(false, "a", 35, "b", 20, "c", 45));
    assertThat(ramped.allocation().owners().get("c")).hasSizeGreaterThan(1);
    assertThat(pValue(ramped, assign(router(ramped)))).isGreaterThan(ALPHA);
  }

  @Test
  void requestsWithoutAKeyAreAssignedAtRandomInProportionToTheWeights() {
    Endpoint endpoint = Endpoint.initial(spec(false, "a", 50, "b", 30, "c", 20));
    Router router = router(endpoint);
    List<String> assigned = new ArrayList<>();
    for (int i = 0; i < KEYS; i++) {
      Assignment a = router.route("churn", i % 2 == 0 ? null : "", null, random).orElseThrow();
      assertThat(a.by()).isEqualTo(Assignment.By.RANDOM);
      assigned.add(a.variant().name());
    }
    assertThat(pValue(endpoint, assigned)).isGreaterThan(ALPHA);
  }

  @Test
  void sameKeyGetsSameVariantFromIndependentlyBuiltRoutersAndFromTheAllocationReadBackFromJson() throws Exception {
    String yaml = """
        name: churn
        sticky_key: {header: x-user-id}
        variants:
          - {name: stable, model: churn, weight: 70}
          - {name: canary, model: churn, weight: 30}
        """;
    Endpoint one = Endpoint.initial(new EndpointSpecParser().yaml(yaml));
    Endpoint other = Endpoint.initial(new EndpointSpecParser().yaml(yaml));
    ObjectMapper mapper = new ObjectMapper();
    BucketAllocation shipped = mapper.readValue(mapper.writeValueAsString(one.allocation()), BucketAllocation.class);
    Endpoint fromJson = new Endpoint(other.name(), other.salt(), other.stickyKey(), other.overrideAllowed(),
        other.variants(), shipped);
    List<String> first = assign(router(one));
    assertThat(assign(router(other))).isEqualTo(first);
    assertThat(assign(router(fromJson))).isEqualTo(first);
    assertThat(first).contains("stable", "canary");
  }

  @Test
  void keysOnTheCanaryAtTenPercentStayOnItAtTwentyAndFifty() {
    Endpoint at10 = Endpoint.initial(spec(false, "stable", 90, "canary", 10));
    Endpoint at20 = Endpoint.revise(at10, spec(false, "stable", 80, "canary", 20));
    Endpoint at50 = Endpoint.revise(at20, spec(false, "stable", 50, "canary", 50));
    List<String> on10 = assign(router(at10));
    List<String> on20 = assign(router(at20));
    List<String> on50 = assign(router(at50));
    for (int i = 0; i < KEYS; i++) {
      if (on10.get(i).equals("canary")) {
        assertThat(on20.get(i)).as(key(i)).isEqualTo("canary");
      }
      if (on20.get(i).equals("canary")) {
        assertThat(on50.get(i)).as(key(i)).isEqualTo("canary");
      }
    }
    assertThat(share(on10, "canary")).isBetween(0.09, 0.11);
    assertThat(share(on20, "canary")).isBetween(0.19, 0.21);
    assertThat(share(on50, "canary")).isBetween(0.49, 0.51);
  }

  @Test
  void raisingOneOfThreeVariantsOnlyMovesKeysOntoIt() {
    Endpoint before = Endpoint.initial(spec(false, "a", 50, "b", 30, "c", 20));
    Endpoint after = Endpoint.revise(before, spec(false, "a", 40, "b", 20, "c", 40));
    List<String> was = assign(router(before));
    List<String> now = assign(router(after));
    Map<String, Integer> moves = new LinkedHashMap<>();
    for (int i = 0; i < KEYS; i++) {
      if (!was.get(i).equals(now.get(i))) {
        moves.merge(was.get(i) + "->" + now.get(i), 1, Integer::sum);
      }
    }
    assertThat(moves).containsOnlyKeys("a->c", "b->c");
    assertThat(share(now, "c")).isBetween(0.38, 0.42);
  }

  @Test
  void variantOfWeightZeroGetsNoTrafficWithOrWithoutAKey() {
    Endpoint endpoint = Endpoint.initial(spec(false, "stable", 100, "dark", 0));
    Router router = router(endpoint);
    assertThat(assign(router)).containsOnly("stable");
    for (int i = 0; i < KEYS; i++) {
      assertThat(router.route("churn", null, null, random).orElseThrow().variant().name()).isEqualTo("stable");
    }
  }

  @Test
  void overridePinsARequestToTheNamedVariantEvenOfWeightZeroWhereAllowed() {
    Router router = router(Endpoint.initial(spec(true, "stable", 100, "dark", 0)));
    Assignment a = router.route("churn", key(1), "dark", random).orElseThrow();
    assertThat(a.variant().name()).isEqualTo("dark");
    assertThat(a.by()).isEqualTo(Assignment.By.OVERRIDE);
    assertThat(router.route("churn", null, "stable", random).orElseThrow().variant().name()).isEqualTo("stable");
  }

  @Test
  void overrideNamingNoVariantIsInvalidAndNamesTheEndpointAndItsVariants() {
    Router router = router(Endpoint.initial(spec(true, "stable", 90, "canary", 10)));
    assertThatThrownBy(() -> router.route("churn", key(1), "canray", random))
        .isInstanceOfSatisfying(SidecarException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT))
        .hasMessageContaining("'churn'").hasMessageContaining("'canray'").hasMessageContaining("stable, canary");
  }

  @Test
  void overrideIsIgnoredWhereTheEndpointDoesNotAllowIt() {
    Router router = router(Endpoint.initial(spec(false, "stable", 90, "canary", 10)));
    for (String override : new String[] {"canary", "stable", "no-such-variant"}) {
      for (int i = 0; i < 100; i++) {
        Assignment pinned = router.route("churn", key(i), override, random).orElseThrow();
        assertThat(pinned.by()).isEqualTo(Assignment.By.STICKY_KEY);
        assertThat(pinned.variant()).isEqualTo(router.route("churn", key(i), null, random).orElseThrow().variant());
      }
    }
  }

  @Test
  void modelThatIsNoEndpointIsNotRouted() {
    Router router = router(Endpoint.initial(spec(true, "stable", 100)));
    assertThat(router.route("iris", key(1), "stable", random)).isEmpty();
    assertThat(new Router(Map.of()).route("churn", null, null, random)).isEmpty();
  }

  @Test
  void saltDecidesTheBucketsSoEndpointsWithTheSameSaltAssignKeysAlike() {
    EndpointSpec churn = spec(false, "stable", 50, "canary", 50);
    Function<String, EndpointSpec> salted = salt -> new EndpointSpec("churn", salt, churn.stickyKey(), false,
        churn.variants());
    List<String> bySalt = assign(router(Endpoint.initial(salted.apply("churn"))));
    assertThat(assign(router(Endpoint.initial(churn)))).isEqualTo(bySalt);
    List<String> reshuffled = assign(router(Endpoint.initial(salted.apply("experiment-2"))));
    long same = 0;
    for (int i = 0; i < KEYS; i++) {
      same += bySalt.get(i).equals(reshuffled.get(i)) ? 1 : 0;
    }
    assertThat(same / (double) KEYS).as("agreement under another salt is chance").isBetween(0.47, 0.53);
  }

  private static double share(List<String> assigned, String variant) {
    return assigned.stream().filter(variant::equals).count() / (double) assigned.size();
  }
}
