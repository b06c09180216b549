package dev.gantry.sidecar.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BucketAllocationTest {

  static Map<String, Integer> weights(Object... nameThenWeight) {
    Map<String, Integer> weights = new LinkedHashMap<>();
    for (int i = 0; i < nameThenWeight.length; i += 2) {
      weights.put((String) nameThenWeight[i], (Integer) nameThenWeight[i + 1]);
    }
    return weights;
  }

  static List<BucketRange> ranges(int... startThenEnd) {
    BucketRange[] ranges = new BucketRange[startThenEnd.length / 2];
    for (int i = 0; i < ranges.length; i++) {
      ranges[i] = new BucketRange(startThenEnd[2 * i], startThenEnd[2 * i + 1]);
    }
    return List.of(ranges);
  }

  @Test
  void initialLaysOutContiguousRangesInDeclaredOrder() {
    BucketAllocation a = BucketAllocation.initial(weights("stable", 50, "canary", 0, "b", 30, "c", 20));
    assertThat(a.owners()).containsExactly(
        Map.entry("stable", ranges(0, 5000)),
        Map.entry("canary", List.of()),
        Map.entry("b", ranges(5000, 8000)),
        Map.entry("c", ranges(8000, 10_000)));
  }

  @Test
  void unchangedWeightsKeepExactlyTheirBucketsAndShrinkingGivesBackFromTheEnd() {
    BucketAllocation before = BucketAllocation.initial(weights("a", 40, "b", 30, "c", 30));
    BucketAllocation after = BucketAllocation.next(before, weights("a", 30, "b", 30, "c", 40));
    assertThat(after.owners()).containsExactly(
        Map.entry("a", ranges(0, 3000)),
        Map.entry("b", ranges(4000, 7000)),
        Map.entry("c", ranges(3000, 4000, 7000, 10_000)));
  }

  @Test
  void rampingDownAndUpAgainGivesTheSameBucketsBack() {
    BucketAllocation start = BucketAllocation.initial(weights("stable", 90, "canary", 10));
    BucketAllocation off = BucketAllocation.next(start, weights("stable", 100, "canary", 0));
    assertThat(off.owners().get("canary")).isEmpty();
    assertThat(BucketAllocation.next(off, weights("stable", 90, "canary", 10))).isEqualTo(start);
  }

  @Test
  void newVariantStartsEmptyAndTakesOnlyFreedBucketsAndRemovedVariantFreesAll() {
    BucketAllocation before = BucketAllocation.initial(weights("a", 50, "b", 50));
    BucketAllocation after = BucketAllocation.next(before, weights("b", 50, "c", 50));
    assertThat(after.owners()).containsExactly(Map.entry("b", ranges(5000, 10_000)), Map.entry("c", ranges(0, 5000)));
    BucketAllocation added = BucketAllocation.next(after, weights("b", 40, "c", 50, "d", 10));
    assertThat(added.owners().get("d")).isEqualTo(ranges(9000, 10_000));
    assertThat(added.owners().get("c")).isEqualTo(ranges(0, 5000));
  }

  @Test
  void refusesWeightsThatDoNotSumTo100OrAreNegative() {
    BucketAllocation a = BucketAllocation.initial(weights("a", 100));
    assertThatThrownBy(() -> BucketAllocation.initial(weights("a", 60, "b", 30)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sum to 90");
    assertThatThrownBy(() -> BucketAllocation.next(a, weights("a", 110, "b", -10)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("weight of b is negative");
  }

  @Test
  void refusesRangesReadFromOutsideThatOverlapLeaveGapsOrAreNotMerged() {
    assertThatThrownBy(() -> new BucketAllocation(Map.of("a", ranges(0, 6000), "b", ranges(5000, 10_000))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overlaps");
    assertThatThrownBy(() -> new BucketAllocation(Map.of("a", ranges(0, 5000), "b", ranges(6000, 10_000))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("owns 9000");
    assertThatThrownBy(() -> new BucketAllocation(Map.of("a", ranges(0, 5000, 5000, 10_000))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sorted and merged");
    assertThatThrownBy(() -> new BucketRange(9000, 10_001)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void roundTripsThroughJsonAsPlainRangesInDeclaredOrder() throws Exception {
    ObjectMapper mapper = new ObjectMapper();
    BucketAllocation a = BucketAllocation.next(BucketAllocation.initial(weights("stable", 90, "canary", 10)),
        weights("stable", 80, "canary", 20));
    String json = mapper.writeValueAsString(a);
    assertThat(json).isEqualTo("{\"owners\":{\"stable\":[{\"start\":0,\"end\":8000}],"
        + "\"canary\":[{\"start\":8000,\"end\":10000}]}}");
    assertThat(mapper.readValue(json, BucketAllocation.class)).isEqualTo(a);
    assertThat(mapper.readValue(json, BucketAllocation.class).owners().keySet()).containsExactly("stable", "canary");
  }

  /**
   * Property-style: random sequences of weight changes (variants added, removed, set to 0) keep every invariant, and
   * every bucket that changes owner moves from a variant that lost weight to one that gained it, so the number moved
   * is the least possible.
   */
  @Test
  void invariantsHoldAfterRandomSequencesOfWeightChanges() {
    Random random = new Random(20_240_607L);
    List<String> pool = List.of("v0", "v1", "v2", "v3", "v4", "v5");
    for (int sequence = 0; sequence < 100; sequence++) {
      Map<String, Integer> weights = randomWeights(random, pool, Map.of());
      BucketAllocation current = BucketAllocation.initial(weights);
      assertInvariants(current, weights);
      for (int step = 0; step < 20; step++) {
        Map<String, Integer> nextWeights = randomWeights(random, pool, weights);
        BucketAllocation next = BucketAllocation.next(current, nextWeights);
        assertInvariants(next, nextWeights);
        assertMinimalMovement(current, weights, next, nextWeights);
        current = next;
        weights = nextWeights;
      }
    }
  }

  /** Half the time a ramp step (a few percent from one variant to another), else a fresh random split. */
  private static Map<String, Integer> randomWeights(Random random, List<String> pool, Map<String, Integer> previous) {
    Map<String, Integer> weights = new LinkedHashMap<>(previous);
    if (!previous.isEmpty() && random.nextBoolean()) {
      List<String> names = List.copyOf(previous.keySet());
      String from = names.get(random.nextInt(names.size()));
      String to = names.get(random.nextInt(names.size()));
      int step = Math.min(previous.get(from), 1 + random.nextInt(10));
      weights.merge(from, -step, Integer::sum);
      weights.merge(to, step, Integer::sum);
      return weights;
    }
    weights.clear();
    List<String> names = List.copyOf(pool.subList(random.nextInt(pool.size()), pool.size()));
    int left = 100;
    for (int i = 0; i < names.size() - 1; i++) {
      int w = random.nextInt(4) == 0 ? 0 : random.nextInt(left + 1);
      weights.put(names.get(i), w);
      left -= w;
    }
    weights.put(names.get(names.size() - 1), left);
    return weights;
  }

  private static void assertInvariants(BucketAllocation a, Map<String, Integer> weights) {
    assertThat(a.owners().keySet()).containsExactlyElementsOf(weights.keySet());
    int[] ownersPerBucket = new int[BucketAllocation.BUCKETS];
    weights.forEach((name, weight) -> {
      List<BucketRange> ranges = a.owners().get(name);
      assertThat(a.bucketCount(name)).isEqualTo(weight * BucketAllocation.BUCKETS_PER_PERCENT);
      for (int i = 0; i < ranges.size(); i++) {
        if (i > 0) {
          assertThat(ranges.get(i).start()).as("sorted and merged").isGreaterThan(ranges.get(i - 1).end());
        }
        for (int b = ranges.get(i).start(); b < ranges.get(i).end(); b++) {
          ownersPerBucket[b]++;
        }
      }
    });
    assertThat(ownersPerBucket).as("owners per bucket").containsOnly(1);
  }

  private static void assertMinimalMovement(BucketAllocation before, Map<String, Integer> weightsBefore,
      BucketAllocation after, Map<String, Integer> weightsAfter) {
    String[] ownerBefore = ownerOfEachBucket(before);
    String[] ownerAfter = ownerOfEachBucket(after);
    int moved = 0;
    for (int b = 0; b < BucketAllocation.BUCKETS; b++) {
      String from = ownerBefore[b];
      String to = ownerAfter[b];
      if (!from.equals(to)) {
        moved++;
        if (weightsAfter.getOrDefault(from, 0) >= weightsBefore.get(from)
            || weightsBefore.getOrDefault(to, 0) >= weightsAfter.get(to)) {
          throw new AssertionError("bucket " + b + " moved from " + from + " to " + to + " going from "
              + weightsBefore + " to " + weightsAfter);
        }
      }
    }
    int decrease = 0;
    for (String name : weightsBefore.keySet()) {
      decrease += Math.max(0, weightsBefore.get(name) - weightsAfter.getOrDefault(name, 0));
    }
    assertThat(moved).as("buckets moved").isEqualTo(decrease * BucketAllocation.BUCKETS_PER_PERCENT);
    for (String name : weightsAfter.keySet()) {
      if (weightsAfter.get(name).equals(weightsBefore.get(name))) {
        assertThat(after.owners().get(name)).as("unchanged %s", name).isEqualTo(before.owners().get(name));
      }
    }
  }

  private static String[] ownerOfEachBucket(BucketAllocation a) {
    String[] owners = new String[BucketAllocation.BUCKETS];
    a.owners().forEach((name, ranges) -> ranges.forEach(r -> Arrays.fill(owners, r.start(), r.end(), name)));
    return owners;
  }
}
