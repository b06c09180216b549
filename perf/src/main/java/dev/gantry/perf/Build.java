package dev.gantry.perf;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One build under test: its runner jar and its sidecar jar, each with the {@code lib/} folder its
 * manifest names beside it.
 *
 * @param label what the tables call it (a commit, or "working tree")
 */
record Build(String label, Path runnerJar, Path sidecarJar) {
  Build {
    requireNonNull(label, "label");
    requireNonNull(runnerJar, "runnerJar");
    requireNonNull(sidecarJar, "sidecarJar");
  }

  /** The jars this checkout's own {@code package} left in its target folders. */
  static Build workingTree(Path root) {
    return new Build("working tree", root.resolve("model-runner/target/model-runner.jar").toAbsolutePath(),
        root.resolve("sidecar-proxy/target/sidecar-proxy.jar").toAbsolutePath());
  }

  /**
   * The jars {@code bench-compare.sh} copied to {@code dir} ({@code model-runner/}, {@code sidecar-proxy/}),
   * labelled by the {@code label} file it wrote there.
   */
  static Build copiedTo(Path dir) throws IOException {
    Path label = dir.resolve("label");
    return new Build(Files.exists(label) ? Files.readString(label).strip() : dir.getFileName().toString(),
        dir.resolve("model-runner/model-runner.jar").toAbsolutePath(),
        dir.resolve("sidecar-proxy/sidecar-proxy.jar").toAbsolutePath());
  }
}
