package dev.gantry.runner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real runner on ephemeral ports and a client for it, started once per test class. Register it
 * as a static field with {@code @RegisterExtension}.
 */
public final class RunnerExtension implements BeforeAllCallback, AfterAllCallback {
  private final Consumer<Path> fill;
  private final String[] models;
  private Path repository;
  private ModelRunner runner;
  private RunnerClient client;

  private RunnerExtension(Consumer<Path> fill, String... models) {
    this.fill = fill;
    this.models = models.clone();
  }

  /** A runner on {@code examples/models}, loading {@code models} (all when none are named). */
  public static RunnerExtension onExamples(String... models) {
    return new RunnerExtension(null, models);
  }

  /** A runner on a temporary repository that {@code fill} puts its models in; all are loaded. */
  public static RunnerExtension onRepository(Consumer<Path> fill) {
    return new RunnerExtension(fill);
  }

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    Path repo = TestModels.examples();
    if (fill != null) {
      repository = Files.createTempDirectory("gantry-repo");
      fill.accept(repository);
      repo = repository;
    }
    runner = ModelRunner.start(RunnerOptions.forRepository(repo, models));
    client = new RunnerClient(runner.grpcPort());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    client.close();
    runner.close();
    if (repository != null) {
      try (Stream<Path> files = Files.walk(repository)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  public ModelRunner runner() {
    return runner;
  }

  public RunnerClient client() {
    return client;
  }
}
