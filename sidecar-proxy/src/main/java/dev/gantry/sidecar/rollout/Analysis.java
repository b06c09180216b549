package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.OptionalDouble;

/**
 * One analysis interval's outcome: each check with its measured value, its threshold and its verdict, and the
 * interval's verdict. Any failed check fails the interval; otherwise any inconclusive check (no data, NaN, an empty
 * series, too few requests) makes it inconclusive: no data never passes.
 */
public record Analysis(Verdict verdict, List<Check> checks) {
  /** What an interval or a check came to. */
  public enum Verdict { PASS, FAIL, INCONCLUSIVE }

  /**
   * One check.
   *
   * @param name e.g. {@code error_rate_relative}
   * @param value the measured value; empty when there was none
   * @param threshold the range it had to be in, as written
   * @param pValue for a sequential test, its always-valid p-value
   */
  public record Check(String name, OptionalDouble value, String threshold, Verdict verdict, OptionalDouble pValue) {
    public Check {
      requireNonNull(name, "name");
      requireNonNull(value, "value");
      requireNonNull(threshold, "threshold");
      requireNonNull(verdict, "verdict");
      requireNonNull(pValue, "pValue");
      if (verdict == Verdict.PASS && (value.isEmpty() || Double.isNaN(value.getAsDouble()))) {
        throw new IllegalArgumentException("check " + name + " cannot pass without a value");
      }
    }
  }

  public Analysis {
    requireNonNull(verdict, "verdict");
    checks = List.copyOf(checks);
  }

  /** The interval's verdict from its checks: fail if any fails, else inconclusive if any is or there are none. */
  public static Analysis of(List<Check> checks) {
    Verdict v = checks.isEmpty() ? Verdict.INCONCLUSIVE : Verdict.PASS;
    for (Check c : checks) {
      if (c.verdict() == Verdict.FAIL) {
        v = Verdict.FAIL;
        break;
      }
      if (c.verdict() == Verdict.INCONCLUSIVE) {
        v = Verdict.INCONCLUSIVE;
      }
    }
    return new Analysis(v, checks);
  }
}
