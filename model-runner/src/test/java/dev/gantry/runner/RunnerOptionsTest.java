package dev.gantry.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gantry.runner.repository.DeviceSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunnerOptionsTest {
  @TempDir
  Path dir;

  @Test
  void defaultsThenFileThenEnvironmentThenFlags() throws Exception {
    Path file = dir.resolve("gantry.yaml");
    Files.writeString(file, "runner:\n  model_repository: /models\n  grpc_port: 9001\n  models: [a, b]\n"
        + "  metrics_port: 9002\n  shutdown_grace_ms: 5000\nsidecar:\n  port: 9090\n");
    RunnerOptions o = RunnerOptions.parse(new String[] {"--config", file.toString(), "--metrics-port", "7002"},
        Map.of("GANTRY_GRPC_PORT", "8101", "GANTRY_DEVICE", "gpu:1"));
    assertThat(o.modelRepository()).hasValue(Path.of("/models"));
    assertThat(o.grpcPort()).isEqualTo(8101);
    assertThat(o.metricsPort()).isEqualTo(7002);
    assertThat(o.models()).containsExactly("a", "b");
    assertThat(o.device()).hasValue(new DeviceSpec(true, 1));
    assertThat(o.engineThreads()).isEqualTo(1);
    assertThat(o.shutdownGraceMs()).isEqualTo(5000);
    RunnerOptions defaults = RunnerOptions.parse(new String[0], Map.of());
    assertThat(defaults.grpcPort()).isEqualTo(8001);
    assertThat(defaults.shutdownGraceMs()).isEqualTo(20_000);
    assertThat(RunnerOptions.parse(new String[] {"--shutdown-grace-ms", "250"},
        Map.of("GANTRY_SHUTDOWN_GRACE_MS", "9000")).shutdownGraceMs()).isEqualTo(250);
    assertThat(RunnerOptions.parse(new String[0], Map.of("GANTRY_SHUTDOWN_GRACE_MS", "9000")).shutdownGraceMs())
        .isEqualTo(9000);
  }

  @Test
  void mistakesAreNamed() throws Exception {
    assertThatThrownBy(() -> RunnerOptions.parse(new String[] {"--grpc-port", "70000"}, Map.of()))
        .hasMessageContaining("--grpc-port must be from 0 to 65535");
    assertThatThrownBy(() -> RunnerOptions.parse(new String[] {"--device", "tpu"}, Map.of()))
        .hasMessageContaining("--device 'tpu'");
    assertThatThrownBy(() -> RunnerOptions.parse(new String[] {"--shutdown-grace-ms", "-1"}, Map.of()))
        .hasMessageContaining("--shutdown-grace-ms must be 0 or more");
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, "runner:\n  grpc: 1\n");
    assertThatThrownBy(() -> RunnerOptions.parse(new String[] {"--config", file.toString()}, Map.of()))
        .hasMessageContaining("'runner.grpc' is not a known setting").hasMessageContaining("grpc_port");
  }
}
