package dev.gantry.sidecar.routing;

/**
 * A half-open range of buckets, {@code [start, end)}, inside {@code [0, BucketAllocation.BUCKETS)}.
 * In JSON: {@code {"start": 9000, "end": 10000}}.
 */
public record BucketRange(int start, int end) {

  public BucketRange {
    if (start < 0 || end > BucketAllocation.BUCKETS || start >= end) {
      throw new IllegalArgumentException("bucket range [" + start + ", " + end + ") must be non-empty and inside [0, "
          + BucketAllocation.BUCKETS + ")");
    }
  }

  /** How many buckets the range holds. */
  public int size() {
    return end - start;
  }

  @Override
  public String toString() {
    return "[" + start + ", " + end + ")";
  }
}
