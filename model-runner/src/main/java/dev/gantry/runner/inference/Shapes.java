package dev.gantry.runner.inference;

import java.util.Arrays;

/** Small helpers for tensor shapes ({@code long[]}, -1 for a variable dimension). */
public final class Shapes {
  private Shapes() {}

  /**
   * Number of elements of a concrete shape; an empty shape is a scalar (1 element).
   *
   * @throws IllegalArgumentException for a negative dimension or a count past {@code Long.MAX_VALUE}
   */
  public static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("shape " + format(shape) + " has a negative dimension");
      }
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException("shape " + format(shape) + " has more elements than a tensor can hold");
      }
    }
    return n;
  }

  /**
   * Number of elements of a shape a caller declared for an input, checked before anything is
   * allocated from it.
   *
   * @throws InferenceException INVALID_ARGUMENT naming the input for a negative dimension or a
   *     product that overflows
   */
  public static long declaredElementCount(String input, long[] shape) {
    try {
      return elementCount(shape);
    } catch (IllegalArgumentException e) {
      throw InferenceException.invalid("input '" + input + "': " + e.getMessage());
    }
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
