package dev.gantry.sidecar.adapter.json;

import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.SidecarException;
import io.vertx.core.json.JsonArray;
import java.math.BigInteger;
import java.util.Arrays;

/**
 * Tensor shapes checked before anything is allocated from them: whole, non-negative dimensions,
 * a bounded rank, a product that does not overflow, and for an empty tensor (a zero dimension)
 * other dimensions that multiply to a small number, so that a few bytes of shape cannot make the
 * sidecar build millions of empty arrays.
 */
public final class Shapes {
  /** The most dimensions a tensor may have (NumPy's limit). */
  public static final int MAX_RANK = 64;
  /** The most that the dimensions other than zero may multiply to in a tensor with no values. */
  public static final long MAX_EMPTY_EXTENT = 1024;

  private Shapes() {}

  /**
   * A shape given as JSON: each dimension a whole number {@code >= 0} (3.0 is 3).
   *
   * @param what what the shape is called in the protocol, for messages
   */
  public static long[] parse(String what, JsonArray json) {
    if (json.size() > MAX_RANK) {
      throw SidecarException.invalid(what + " has " + json.size() + " dimensions; at most " + MAX_RANK);
    }
    long[] shape = new long[json.size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = dimension(what, i, json.getValue(i));
    }
    return shape;
  }

  private static long dimension(String what, int i, Object v) {
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      long d = ((Number) v).longValue();
      if (d >= 0) {
        return d;
      }
    } else if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (d >= Numbers.MAX_EXACT_DOUBLE && d == Math.rint(d)) {
        throw tooLarge(what, i, v);
      }
      if (d >= 0 && d == Math.rint(d)) {
        return (long) d;
      }
    } else if (v instanceof BigInteger n && n.signum() >= 0) {
      throw tooLarge(what, i, v);
    }
    throw SidecarException.invalid(what + " dimension " + i + " is " + Numbers.describe(v)
        + "; sizes are whole numbers >= 0");
  }

  private static SidecarException tooLarge(String what, int i, Object v) {
    return SidecarException.invalid(what + " dimension " + i + " is " + Numbers.describe(v) + ", too large");
  }

  /**
   * The number of elements a shape holds; 400 naming {@code what} for a negative dimension, too
   * many dimensions, a product past {@code Long.MAX_VALUE} or an empty tensor that is too wide.
   */
  public static long count(String what, long[] shape) {
    return count(ErrorKind.INVALID_ARGUMENT, what, shape);
  }

  static long count(ErrorKind kind, String what, long[] shape) {
    if (shape.length > MAX_RANK) {
      throw new SidecarException(kind, what + " has " + shape.length + " dimensions; at most " + MAX_RANK);
    }
    long nonZero = 1;
    boolean empty = false;
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        throw new SidecarException(kind, what + " has shape " + Arrays.toString(shape) + ": dimension " + i
            + " is negative");
      }
      if (shape[i] == 0) {
        empty = true;
        continue;
      }
      try {
        nonZero = Math.multiplyExact(nonZero, shape[i]);
      } catch (ArithmeticException e) {
        throw new SidecarException(kind, what + " has shape " + Arrays.toString(shape)
            + ", whose dimensions multiply past " + Long.MAX_VALUE);
      }
    }
    if (empty && nonZero > MAX_EMPTY_EXTENT) {
      throw new SidecarException(kind, what + " has shape " + Arrays.toString(shape) + ", which holds no values;"
          + " the other dimensions of an empty tensor may multiply to at most " + MAX_EMPTY_EXTENT);
    }
    return empty ? 0 : nonZero;
  }

  /** Checks that {@code shape} holds exactly {@code values} elements (see {@link #count}). */
  public static void check(String what, long[] shape, long values) {
    check(ErrorKind.INVALID_ARGUMENT, what, shape, values);
  }

  static void check(ErrorKind kind, String what, long[] shape, long values) {
    long count = count(kind, what, shape);
    if (count != values) {
      throw new SidecarException(kind, what + " has shape " + Arrays.toString(shape) + " (" + count
          + " values) but " + values + " values");
    }
  }
}
