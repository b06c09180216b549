package dev.gantry.runner.inference;

import java.util.Arrays;

/** Small helpers for tensor shapes ({@code long[]}, -1 for a variable dimension). */
public final class Shapes {
  private Shapes() {}

  /** Number of elements of a concrete shape; an empty shape is a scalar (1 element). */
  public static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** True when {@code actual} fits {@code expected}, where -1 in expected matches any size. */
  public static boolean matches(long[] expected, long[] actual) {
    if (expected.length != actual.length) {
      return false;
    }
    for (int i = 0; i < expected.length; i++) {
      if (expected[i] != -1 && expected[i] != actual[i]) {
        return false;
      }
    }
    return true;
  }

  public static String format(long[] shape) {
    return Arrays.toString(shape).replace(" ", "");
  }

  /** The shape with its first dimension replaced. */
  public static long[] withFirst(long[] shape, long first) {
    long[] copy = shape.clone();
    copy[0] = first;
    return copy;
  }

  /** {@code [prefix] + dims}. */
  public static long[] prepend(long prefix, long[] dims) {
    long[] shape = new long[dims.length + 1];
    shape[0] = prefix;
    System.arraycopy(dims, 0, shape, 1, dims.length);
    return shape;
  }
}
