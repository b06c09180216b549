package dev.gantry.sidecar.routing;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which buckets each variant of an endpoint owns: for each variant, in declared order, its ranges, sorted and merged.
 * A keyed request lands in the bucket {@link StickyHash#bucket} gives it and goes to that bucket's owner.
 *
 * <p>This is data: the admin API computes it once per change of weights and every sidecar reads the same one, so
 * that a key lands on the same variant everywhere. In JSON: {@code {"owners": {"stable": [{"start": 0, "end":
 * 9000}], "canary": [{"start": 9000, "end": 10000}]}}}.
 *
 * <p>Weights are whole percents summing to exactly 100; a variant of weight {@code w} owns {@code w *
 * BUCKETS_PER_PERCENT} buckets, and every bucket has exactly one owner. {@link #next} moves as few buckets as it
 * can, which makes a ramp monotone: raising a variant's weight only moves keys onto it.
 *
 * @param owners variant name to the ranges it owns, in the endpoint's declared variant order; a variant of weight 0
 *     is present with no ranges
 */
public record BucketAllocation(Map<String, List<BucketRange>> owners) {
  /** Buckets a key can land in: {@code [0, BUCKETS)}. */
  public static final int BUCKETS = 10_000;
  /** Buckets per percent of weight. */
  public static final int BUCKETS_PER_PERCENT = BUCKETS / 100;

  /** Checks that ranges are sorted, merged and disjoint, and that every bucket has exactly one owner. */
  public BucketAllocation {
    requireNonNull(owners, "owners");
    Map<String, List<BucketRange>> copy = new LinkedHashMap<>();
    BitSet owned = new BitSet(BUCKETS);
    owners.forEach((variant, ranges) -> {
      requireNonNull(variant, "variant name");
      List<BucketRange> list = List.copyOf(requireNonNull(ranges, () -> "ranges of " + variant));
      for (int i = 0; i < list.size(); i++) {
        BucketRange r = list.get(i);
        if (i > 0 && r.start() <= list.get(i - 1).end()) {
          throw new IllegalArgumentException("ranges of " + variant + " must be sorted and merged: " + list);
        }
        if (owned.nextSetBit(r.start()) >= 0 && owned.nextSetBit(r.start()) < r.end()) {
          throw new IllegalArgumentException("range " + r + " of " + variant + " overlaps another variant's");
        }
        owned.set(r.start(), r.end());
      }
      copy.put(variant, list);
    });
    if (owned.cardinality() != BUCKETS) {
      throw new IllegalArgumentException("an allocation must own all " + BUCKETS + " buckets, this one owns "
          + owned.cardinality());
    }
    owners = Collections.unmodifiableMap(copy);
  }

  /**
   * Contiguous ranges in declared order: with 90/10, the first variant owns {@code [0, 9000)} and the second
   * {@code [9000, 10000)}.
   *
   * @param weights variant name to weight in percent, in declared order (e.g. a {@link LinkedHashMap}); the weights
   *     are non-negative and sum to 100
   */
  public static BucketAllocation initial(Map<String, Integer> weights) {
    checkWeights(weights);
    Map<String, BitSet> sets = new LinkedHashMap<>();
    int next = 0;
    for (Map.Entry<String, Integer> e : weights.entrySet()) {
      BitSet set = new BitSet(BUCKETS);
      int size = e.getValue() * BUCKETS_PER_PERCENT;
      set.set(next, next + size);
      next += size;
      sets.put(e.getKey(), set);
    }
    return fromSets(sets);
  }

  /**
   * The allocation for new weights that moves the fewest buckets from {@code previous}. A variant whose weight is
   * unchanged keeps exactly its buckets; one whose weight drops gives back buckets from the end of its ranges; one
   * removed gives back all of them; one whose weight grows, or one that is new (it starts with none), takes only
   * buckets given back, lowest first, in declared order. So no bucket ever moves between two variants whose weights
   * did not grow, and none moves away from a variant whose weight did not drop.
   *
   * @param weights variant name to weight in percent, in declared order; non-negative, summing to 100
   */
  public static BucketAllocation next(BucketAllocation previous, Map<String, Integer> weights) {
    requireNonNull(previous, "previous");
    checkWeights(weights);
    Map<String, BitSet> sets = new LinkedHashMap<>();
    BitSet taken = new BitSet(BUCKETS);
    weights.forEach((variant, weight) -> {
      BitSet set = toSet(previous.owners().getOrDefault(variant, List.of()));
      int surplus = set.cardinality() - weight * BUCKETS_PER_PERCENT;
      for (int bucket = set.length() - 1; surplus > 0; bucket = set.previousSetBit(bucket - 1), surplus--) {
        set.clear(bucket);
      }
      taken.or(set);
      sets.put(variant, set);
    });
    weights.forEach((variant, weight) -> {
      BitSet set = sets.get(variant);
      for (int missing = weight * BUCKETS_PER_PERCENT - set.cardinality(); missing > 0; missing--) {
        int free = taken.nextClearBit(0);
        set.set(free);
        taken.set(free);
      }
    });
    return fromSets(sets);
  }

  /** How many buckets a variant owns; 0 for one it does not name. */
  public int bucketCount(String variant) {
    return owners.getOrDefault(variant, List.of()).stream().mapToInt(BucketRange::size).sum();
  }

  private static void checkWeights(Map<String, Integer> weights) {
    requireNonNull(weights, "weights");
    int sum = 0;
    for (Map.Entry<String, Integer> e : weights.entrySet()) {
      int w = requireNonNull(e.getValue(), () -> "weight of " + e.getKey());
      if (w < 0) {
        throw new IllegalArgumentException("weight of " + e.getKey() + " is negative: " + w);
      }
      sum += w;
    }
    if (sum != 100) {
      throw new IllegalArgumentException("weights must sum to 100, these sum to " + sum + ": " + weights);
    }
  }

  private static BitSet toSet(List<BucketRange> ranges) {
    BitSet set = new BitSet(BUCKETS);
    ranges.forEach(r -> set.set(r.start(), r.end()));
    return set;
  }

  private static BucketAllocation fromSets(Map<String, BitSet> sets) {
    Map<String, List<BucketRange>> owners = new LinkedHashMap<>();
    sets.forEach((variant, set) -> {
      List<BucketRange> ranges = new ArrayList<>();
      for (int start = set.nextSetBit(0); start >= 0; start = set.nextSetBit(set.nextClearBit(start))) {
        ranges.add(new BucketRange(start, set.nextClearBit(start)));
      }
      owners.put(variant, ranges);
    });
    return new BucketAllocation(owners);
  }
}
