package dev.gantry.runner.repository;

import java.util.Locale;
import java.util.Optional;

/**
 * Where a model runs: the CPU, or GPU number {@code index}.
 *
 * @param gpu true for a GPU
 * @param index GPU number; 0 for the CPU
 */
public record DeviceSpec(boolean gpu, int index) {
  public static final DeviceSpec CPU = new DeviceSpec(false, 0);

  /** Parses {@code cpu}, {@code gpu}, {@code gpu:N} (also {@code cuda}, {@code cuda:N}). */
  public static Optional<DeviceSpec> parse(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (v.equals("cpu")) {
      return Optional.of(CPU);
    }
    if (v.equals("gpu") || v.equals("cuda")) {
      return Optional.of(new DeviceSpec(true, 0));
    }
    for (String prefix : new String[] {"gpu:", "cuda:"}) {
      if (v.startsWith(prefix)) {
        try {
          int index = Integer.parseInt(v.substring(prefix.length()));
          return index >= 0 ? Optional.of(new DeviceSpec(true, index)) : Optional.empty();
        } catch (NumberFormatException e) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    return gpu ? "gpu:" + index : "cpu";
  }
}
