package dev.gantry.sidecar;

import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerOptions;
import java.nio.file.Files;
import java.nio.file.Path;

/** A real model-runner on the example models with a real sidecar in front, on ephemeral ports. */
public final class Stack implements AutoCloseable {
  public final ModelRunner runner;
  public final Sidecar sidecar;
  public final Http http;

  private Stack(ModelRunner runner, Sidecar sidecar) {
    this.runner = runner;
    this.sidecar = sidecar;
    this.http = new Http(sidecar.port());
  }

  public static Stack start(String defaultModel) {
    ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(examples()));
    Sidecar sidecar = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), defaultModel));
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
        .until(() -> sidecar.health().ready() && !sidecar.health().models().isEmpty());
    return new Stack(runner, sidecar);
  }

  public static Path examples() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("examples/models"))) {
        return p.resolve("examples/models");
      }
    }
    throw new IllegalStateException("examples/models not found");
  }

  @Override
  public void close() {
    sidecar.close();
    runner.close();
  }
}
