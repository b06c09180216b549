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
