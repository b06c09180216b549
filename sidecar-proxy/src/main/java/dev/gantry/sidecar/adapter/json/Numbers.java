package dev.gantry.sidecar.adapter.json;

import dev.gantry.sidecar.core.SidecarException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/**
 * JSON values to tensor elements, converted exactly or refused with a 400 naming the input, the
 * element and the value. JSON parsing gives Integer, Long or BigInteger for whole numbers and
 * Double for numbers with a fraction or exponent; a Double is exact only below 2^53, so a whole
 * number written {@code 1e3} is accepted there and refused from there on rather than rounded.
 */
final class Numbers {
  /** From here on a double may be a rounded whole number: 2^53 + 1 parses as 2^53. */
  static final double MAX_EXACT_DOUBLE = 0x1p53;
  /** Longest number written as a string (CSV) that is read; JSON parsing has the same limit. */
  private static final int MAX_NUMBER_CHARS = 1000;
  /** 2^64 has 20 digits: a number with more whole digits is out of every integer type's range. */
  private static final int MAX_WHOLE_DIGITS = 20;

  /** The integer datatypes with their ranges. */
  enum Whole {
    INT8(Byte.MIN_VALUE, Byte.MAX_VALUE),
    INT16(Short.MIN_VALUE, Short.MAX_VALUE),
    INT32(Integer.MIN_VALUE, Integer.MAX_VALUE),
    INT64(Long.MIN_VALUE, Long.MAX_VALUE),
    UINT8(0, 0xffL),
    UINT16(0, 0xffffL),
    UINT32(0, 0xffff_ffffL),
    /** Its maximum, 2^64 - 1, is the long -1 read unsigned. */
    UINT64(0, -1L);

    private final long min;
    private final long max;
    private final BigInteger bigMin;
    private final BigInteger bigMax;

    Whole(long min, long max) {
      this.min = min;
      this.max = max;
      this.bigMin = BigInteger.valueOf(min);
      this.bigMax = max == -1L ? BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE) : BigInteger.valueOf(max);
    }

    private boolean holds(long n) {
      return n >= min && (this == UINT64 || n <= max);
    }

    private boolean holds(BigInteger n) {
      return n.compareTo(bigMin) >= 0 && n.compareTo(bigMax) <= 0;
    }

    private String range() {
      return "[" + bigMin + ", " + bigMax + "]";
    }
  }

  private Numbers() {}

  /**
   * A whole number of type {@code t}, as the bits the proto field carries (UINT64 above 2^63
   * comes back negative: the same 64 bits).
   *
   * @param lenient accept numbers written as strings (CSV cells)
   */
  static long whole(Whole t, String name, int i, Object v, boolean lenient) {
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      long n = ((Number) v).longValue();
      if (!t.holds(n)) {
        throw outOfRange(t.name(), t.range(), name, i, v);
      }
      return n;
    }
    if (v instanceof Double || v instanceof Float) {
      return wholeDouble(t, name, i, v, ((Number) v).doubleValue());
    }
    BigInteger n;
    if (v instanceof BigInteger b) {
      n = b;
    } else if (v instanceof BigDecimal d) {
      n = wholeDecimal(t, name, i, v, d);
    } else if (lenient && v instanceof String s) {
      n = wholeDecimal(t, name, i, v, decimal(name, i, s));
    } else {
      throw notA("a number", name, i, v);
    }
    if (!t.holds(n)) {
      throw outOfRange(t.name(), t.range(), name, i, v);
    }
    return n.longValue();
  }

  private static long wholeDouble(Whole t, String name, int i, Object v, double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      throw outOfRange(t.name(), t.range(), name, i, v);
    }
    if (d != Math.rint(d)) {
      throw notA("a whole number", name, i, v);
    }
    if (Math.abs(d) < MAX_EXACT_DOUBLE) {
      long n = (long) d;
      if (!t.holds(n)) {
        throw outOfRange(t.name(), t.range(), name, i, v);
      }
      return n;
    }
    if (!t.holds(new BigDecimal(d).toBigInteger())) {
      throw outOfRange(t.name(), t.range(), name, i, v);
    }
    throw SidecarException.invalid(prefix(name, i) + describe(v) + ", a whole number written with a fraction or"
        + " exponent, which is exact only below 2^53; write it as digits alone");
  }

  private static BigInteger wholeDecimal(Whole t, String name, int i, Object v, BigDecimal d) {
    if (d.signum() == 0) {
      return BigInteger.ZERO;
    }
    // digits before the point, from the scale alone: 1e999999999 is refused without being built
    long wholeDigits = (long) d.precision() - d.scale();
    if (wholeDigits > MAX_WHOLE_DIGITS) {
      throw outOfRange(t.name(), t.range(), name, i, v);
    }
    if (wholeDigits <= 0) {
      throw notA("a whole number", name, i, v);
    }
    try {
      return d.toBigIntegerExact();
    } catch (ArithmeticException e) {
      throw notA("a whole number", name, i, v);
    }
  }

  private static BigDecimal decimal(String name, int i, String s) {
    String t = s.trim();
    if (t.length() <= MAX_NUMBER_CHARS) {
      try {
        return new BigDecimal(t);
      } catch (NumberFormatException e) {
        // refused below
      }
    }
    throw notA("a number", name, i, s);
  }

  /** A number for FP64; FP32 narrows it with {@link #fp32}. */
  static double fp64(String name, int i, Object v, boolean lenient) {
    double d;
    if (v instanceof Number n) {
      d = n.doubleValue();
    } else if (lenient && v instanceof String s && s.length() <= MAX_NUMBER_CHARS) {
      try {
        d = Double.parseDouble(s.trim());
      } catch (NumberFormatException e) {
        throw notA("a number", name, i, v);
      }
      if (Double.isInfinite(d) && s.contains("Infinity")) {
        // written as Infinity: meant, not an overflow
        return d;
      }
    } else {
      throw notA("a number", name, i, v);
    }
    if (Double.isInfinite(d)) {
      // JSON has no infinity: this is a number too large for a double, such as 1e400
      throw outOfRange("FP64", "[-" + Double.MAX_VALUE + ", " + Double.MAX_VALUE + "]", name, i, v);
    }
    return d;
  }

  static float fp32(String name, int i, Object v, boolean lenient) {
    double d = fp64(name, i, v, lenient);
    float f = (float) d;
    if (Float.isInfinite(f) && !Double.isInfinite(d)) {
      throw outOfRange("FP32", "[-" + Float.MAX_VALUE + ", " + Float.MAX_VALUE + "]", name, i, v);
    }
    return f;
  }

  static boolean bool(String name, int i, Object v, boolean lenient) {
    if (v instanceof Boolean b) {
      return b;
    }
    if (lenient && v instanceof String s && (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false"))) {
      return Boolean.parseBoolean(s);
    }
    throw notA("true or false", name, i, v);
  }

  static String string(String name, int i, Object v) {
    if (v instanceof String s) {
      return s;
    }
    throw notA("a string (BYTES)", name, i, v);
  }

  private static String prefix(String name, int i) {
    return "input '" + name + "': element " + i + " is ";
  }

  private static SidecarException notA(String expected, String name, int i, Object v) {
    return SidecarException.invalid(prefix(name, i) + describe(v) + ", expected " + expected);
  }

  private static SidecarException outOfRange(String type, String range, String name, int i, Object v) {
    return SidecarException.invalid(prefix(name, i) + describe(v) + ", outside " + type + "'s range " + range);
  }

  /** A value for a message: short, and an array or object by its kind rather than its text. */
  static String describe(Object v) {
    if (v instanceof JsonArray || v instanceof List<?>) {
      return "an array";
    }
    if (v instanceof JsonObject || v instanceof Map<?, ?>) {
      return "an object";
    }
    String s = String.valueOf(v);
    String shown = s.length() > 40 ? s.substring(0, 40) + "…" : s;
    return v instanceof String ? "\"" + shown + "\"" : shown;
  }
}
