package dev.gantry.runner.source;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a model comes from, in the forms MLflow's clients accept ({@code mlflow models serve -m …}):
 * <ul>
 *   <li>{@code models:/<name>/<version>}, {@code models:/<name>/<stage>} (case-insensitive, e.g. Production),
 *       {@code models:/<name>/latest}, {@code models:/<name>@<alias>} — the MLflow Model Registry;
 *   <li>{@code runs:/<run_id>/<path>} — an artifact of a tracking run;
 *   <li>{@code mlflow-artifacts:/<path>} — through the tracking server's artifact proxy;
 *   <li>{@code s3://<bucket>/<key>};
 *   <li>{@code file://<path>} and plain paths.
 * </ul>
 * Parsing only: resolving a registry or run URI to files is the registry client's job.
 */
public sealed interface ModelUri {
  /** The URI as written. */
  String text();

  /** A registered model: exactly one of version, stage, alias, or the latest version. */
  record Registered(String text, String name, Optional<Long> version, Optional<String> stage,
      Optional<String> alias) implements ModelUri {
    public Registered {
      requireNonNull(name, "name");
    }

    /** Whether it names the latest version ({@code models:/name/latest}). */
    public boolean latest() {
      return version.isEmpty() && stage.isEmpty() && alias.isEmpty();
    }

    /** Whether what it names can move to another version (a stage, an alias, the latest): worth watching. */
    public boolean moves() {
      return version.isEmpty();
    }
  }

  /** An artifact path of a tracking run. */
  record Run(String text, String runId, String path) implements ModelUri {}

  /** A path behind the tracking server's artifact proxy. */
  record Artifacts(String text, String path) implements ModelUri {}

  /** An object prefix in S3 (or an S3-compatible store). */
  record S3(String text, String bucket, String key) implements ModelUri {}

  /** A directory on this machine. */
  record Local(String text, Path path) implements ModelUri {}

  Pattern REGISTERED = Pattern.compile("models:/([^/@]+)(?:/([^/]+)|@([^/@]+))/?");
  Pattern RUN = Pattern.compile("runs:/([^/]+)/(.+)");
  Pattern S3_URI = Pattern.compile("s3://([^/]+)/?(.*)");

  /** The URI's meaning; {@link IllegalArgumentException} saying which form was meant and how to write it. */
  static ModelUri parse(String uri) {
    if (uri == null || uri.isBlank()) {
      throw new IllegalArgumentException("a model URI is empty; write models:/<name>/<version|stage>,"
          + " models:/<name>@<alias>, runs:/<run_id>/<path>, s3://<bucket>/<path> or a directory");
    }
    String u = uri.trim();
    if (u.startsWith("models:")) {
      Matcher m = REGISTERED.matcher(u);
      if (!m.matches() || m.group(1).isBlank()) {
        throw new IllegalArgumentException("'" + uri + "' is not a registry URI: write models:/<name>/<version>,"
            + " models:/<name>/<stage> (e.g. Production), models:/<name>/latest or models:/<name>@<alias>");
      }
      String name = m.group(1);
      if (m.group(3) != null) {
        return new Registered(u, name, Optional.empty(), Optional.empty(), Optional.of(m.group(3)));
      }
      String suffix = m.group(2);
      if (suffix.chars().allMatch(Character::isDigit)) {
        try {
          return new Registered(u, name, Optional.of(Long.parseLong(suffix)), Optional.empty(), Optional.empty());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("'" + uri + "': version " + suffix + " is too large");
        }
      }
      if (suffix.toLowerCase(Locale.ROOT).equals("latest")) {
        return new Registered(u, name, Optional.empty(), Optional.empty(), Optional.empty());
      }
      return new Registered(u, name, Optional.empty(), Optional.of(suffix), Optional.empty());
    }
    if (u.startsWith("runs:")) {
      Matcher m = RUN.matcher(u);
      if (!m.matches()) {
        throw new IllegalArgumentException("'" + uri + "' is not a run URI: write runs:/<run_id>/<path in the run's"
            + " artifacts>, e.g. runs:/0a1b2c/model");
      }
      return new Run(u, m.group(1), m.group(2));
    }
    if (u.startsWith("mlflow-artifacts:")) {
      String path = u.substring("mlflow-artifacts:".length()).replaceFirst("^/+", "");
      if (path.isEmpty()) {
        throw new IllegalArgumentException("'" + uri + "' names no artifact path: write mlflow-artifacts:/<path>");
      }
      return new Artifacts(u, path);
    }
    if (u.startsWith("s3://")) {
      Matcher m = S3_URI.matcher(u);
      if (!m.matches()) {
        throw new IllegalArgumentException("'" + uri + "' is not an S3 URI: write s3://<bucket>/<path>");
      }
      return new S3(u, m.group(1), m.group(2));
    }
    if (u.startsWith("file:")) {
      return new Local(u, Path.of(java.net.URI.create(u)));
    }
    if (u.matches("^[A-Za-z][A-Za-z0-9+.-]*:/.*") && !u.matches("^[A-Za-z]:[\\\\/].*")) {
      throw new IllegalArgumentException("'" + uri + "': the scheme " + u.substring(0, u.indexOf(':'))
          + " is not one Gantry reads; use models:/, runs:/, mlflow-artifacts:/, s3://, file:// or a path");
    }
    return new Local(u, Path.of(u));
  }
}
