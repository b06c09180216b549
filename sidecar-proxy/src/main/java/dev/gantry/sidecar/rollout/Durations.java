package dev.gantry.sidecar.rollout;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as rollout specs write them, the way Flagger and Argo do: {@code 500ms}, {@code 30s}, {@code 5m},
 * {@code 1h}.
 */
public final class Durations {
  private static final Pattern FORM = Pattern.compile("(\\d{1,9})(ms|s|m|h)");

  private Durations() {}

  /** The duration; {@link IllegalArgumentException} naming the accepted forms when it is not one. */
  public static Duration parse(String text) {
    Matcher m = FORM.matcher(text == null ? "" : text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + text + "' is not a duration: write a whole number and ms, s, m or h,"
          + " e.g. 30s");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }

  /** The duration as a spec would write it, e.g. for templating into PromQL ({@code 30s}). */
  public static String format(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 != 0 ? ms + "ms" : ms / 1000 + "s";
  }
}
