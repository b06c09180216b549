package dev.gantry.runner;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Where the example models and fixtures live, and what Python computed for them. */
public final class TestModels {
  private TestModels() {}

  /** {@code examples/models} of the checkout. */
  public static Path examples() {
    Path here = Path.of("").toAbsolutePath();
    for (Path p = here; p != null; p = p.getParent()) {
      Path candidate = p.resolve("examples").resolve("models");
      if (Files.isDirectory(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException("examples/models not found above " + here);
  }

  /** The test fixture models. */
  public static Path fixtures() {
    return examples().getParent().getParent().resolve("model-runner/src/test/resources/fixtures");
  }

  /** {@code examples/expected.json}: sample rows and Python's probabilities for each model. */
  public static JsonNode expected() {
    try {
      return new ObjectMapper().readTree(examples().getParent().resolve("expected.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Copies a model folder into {@code repo}, under {@code name}, and edits its config.yaml:
   * {@code edits} are pairs of text to find and its replacement, each of which must be found.
   */
  public static Path copyModel(Path source, Path repo, String name, String... edits) {
    Path target = copyModel(source, repo, name);
    Path config = target.resolve("config.yaml");
    try {
      String text = Files.readString(config);
      for (int i = 0; i + 1 < edits.length; i += 2) {
        if (!text.contains(edits[i])) {
          throw new IllegalArgumentException(config + " has no '" + edits[i] + "' to replace");
        }
        text = text.replace(edits[i], edits[i + 1]);
      }
      Files.writeString(config, text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return target;
  }

  /** Copies a model folder into {@code repo}, under {@code name}. */
  public static Path copyModel(Path source, Path repo, String name) {
    Path target = repo.resolve(name);
    try (Stream<Path> files = Files.walk(source)) {
      for (Path f : files.toList()) {
        Path t = target.resolve(source.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(t);
        } else {
          Files.copy(f, t);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return target;
  }
}
