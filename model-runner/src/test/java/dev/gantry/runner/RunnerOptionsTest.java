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

  @Test
  void workerSpinAndNativeTransportComeFromFlagsEnvironmentAndFile() throws Exception {
    RunnerOptions defaults = RunnerOptions.parse(new String[0], Map.of());
    assertThat(defaults.workerSpinMicros()).isEqualTo(RunnerOptions.DEFAULT_WORKER_SPIN_US);
    assertThat(defaults.nativeTransport()).isFalse();
    Path file = dir.resolve("spin.yaml");
    Files.writeString(file, "runner:\n  worker_spin_us: 40\n  native_transport: true\n");
    RunnerOptions fromFile = RunnerOptions.parse(new String[] {"--config", file.toString()}, Map.of());
    assertThat(fromFile.workerSpinMicros()).isEqualTo(40);
    assertThat(fromFile.nativeTransport()).isTrue();
    RunnerOptions fromEnv = RunnerOptions.parse(new String[] {"--config", file.toString()},
        Map.of("GANTRY_WORKER_SPIN_US", "0", "GANTRY_NATIVE_TRANSPORT", "false"));
    assertThat(fromEnv.workerSpinMicros()).isZero();
    assertThat(fromEnv.nativeTransport()).isFalse();
    RunnerOptions fromFlags = RunnerOptions.parse(new String[] {"--worker-spin-us", "1000", "--native-transport",
        "true"}, Map.of("GANTRY_WORKER_SPIN_US", "5"));
    assertThat(fromFlags.workerSpinMicros()).isEqualTo(1000);
    assertThat(fromFlags.nativeTransport()).isTrue();
  }

  @Test
  void aGrpcSocketComesFromFlagEnvironmentOrFileAndIsOffByDefault() throws Exception {
    assertThat(RunnerOptions.parse(new String[0], Map.of()).grpcSocket()).isEmpty();
    Path file = dir.resolve("socket.yaml");
    Files.writeString(file, "runner:\n  grpc_socket: /run/gantry/from-file.sock\n");
    assertThat(RunnerOptions.parse(new String[] {"--config", file.toString()}, Map.of()).grpcSocket())
        .contains(Path.of("/run/gantry/from-file.sock"));
    assertThat(RunnerOptions.parse(new String[] {"--config", file.toString()},
        Map.of("GANTRY_GRPC_SOCKET", "/run/gantry/from-env.sock")).grpcSocket())
        .contains(Path.of("/run/gantry/from-env.sock"));
    assertThat(RunnerOptions.parse(new String[] {"--grpc-socket", "/tmp/flag.sock"},
        Map.of("GANTRY_GRPC_SOCKET", "/run/gantry/from-env.sock")).grpcSocket()).contains(Path.of("/tmp/flag.sock"));
  }

  @Test
  void workerSpinAndNativeTransportMistakesAreNamed() {
    assertThatThrownBy(() -> RunnerOptions.parse(new String[] {"--worker-spin-us", "1001"}, Map.of()))
        .hasMessageContaining("--worker-spin-us must be from 0 to 1000, got 1001");
    assertThatThrownBy(() -> RunnerOptions.parse(new String[0], Map.of("GANTRY_WORKER_SPIN_US", "-5")))
        .hasMessageContaining("--worker-spin-us must be from 0 to 1000, got -5");
    assertThatThrownBy(() -> RunnerOptions.parse(new String[] {"--worker-spin-us", "50us"}, Map.of()))
        .hasMessageContaining("--worker-spin-us");
    assertThatThrownBy(() -> RunnerOptions.parse(new String[] {"--native-transport", "maybe"}, Map.of()))
        .hasMessageContaining("--native-transport").hasMessageContaining("maybe");
  }

  @Test
  void modelUrisComeFromFlagsAndTheFilesSourcesList() throws Exception {
    RunnerOptions one = RunnerOptions.parse(new String[] {"--model-uri", "models:/customer-churn@champion",
        "--watch", "30s", "--model-cache", "/var/cache/gantry"}, Map.of());
    assertThat(one.sources()).hasSize(1);
    assertThat(one.sources().get(0).name()).isEqualTo("customer-churn");
    assertThat(one.sources().get(0).watch()).hasValue(java.time.Duration.ofSeconds(30));
    assertThat(one.modelCache()).isEqualTo(Path.of("/var/cache/gantry"));
    // a URI alone serves only that model; a repository named too serves both
    assertThat(one.modelRepository()).isEmpty();
    assertThat(RunnerOptions.parse(new String[] {"--model-uri", "/models/churn", "--model-name", "churn",
        "--model-repository", "/repo"}, Map.of()).modelRepository()).hasValue(Path.of("/repo"));
    assertThat(RunnerOptions.parse(new String[] {"--model-uri", "/models/churn/"}, Map.of()).sources().get(0).name())
        .isEqualTo("churn");
    Path file = dir.resolve("sources.yaml");
    Files.writeString(file, "runner:\n  model_cache: /cache\n  sources:\n"
        + "    - {name: champion, uri: \"models:/churn@champion\", watch: 1m}\n"
        + "    - {uri: \"runs:/0a1b/model\"}\n"
        + "    - {name: in-s3, uri: \"s3://bucket/models/churn\"}\n");
    RunnerOptions fromFile = RunnerOptions.parse(new String[] {"--config", file.toString()}, Map.of());
    assertThat(fromFile.sources()).extracting(s -> s.name()).containsExactly("champion", "model", "in-s3");
    assertThat(fromFile.sources().get(0).watch()).hasValue(java.time.Duration.ofMinutes(1));
    assertThat(fromFile.sources().get(1).uri()).isInstanceOf(dev.gantry.runner.source.ModelUri.Run.class);
    assertThat(fromFile.modelCache()).isEqualTo(Path.of("/cache"));
    assertThat(fromFile.modelRepository()).isEmpty();
    assertThat(RunnerOptions.parse(new String[0], Map.of("XDG_CACHE_HOME", "/xdg")).modelCache())
        .isEqualTo(Path.of("/xdg/gantry/models"));
  }

  @Test
  void modelUriMistakesAreNamed() throws Exception {
    assertThatThrownBy(() -> RunnerOptions.parse(new String[] {"--model-uri", "models:/m@champion", "--watch",
        "soon"}, Map.of())).hasMessageContaining("--watch 'soon' is not a duration");
    assertThatThrownBy(() -> RunnerOptions.parse(new String[] {"--watch", "30s"}, Map.of()))
        .hasMessageContaining("apply to --model-uri");
    assertThatThrownBy(() -> RunnerOptions.parse(new String[] {"--model-uri", "ftp://host/model"}, Map.of()))
        .hasMessageContaining("the scheme ftp is not one Gantry reads");
    Path file = dir.resolve("bad-sources.yaml");
    Files.writeString(file, "runner:\n  sources:\n    - {name: a, uri: \"models:/a/1\", wacth: 1m}\n");
    assertThatThrownBy(() -> RunnerOptions.parse(new String[] {"--config", file.toString()}, Map.of()))
        .hasMessageContaining("'runner.sources[0]' has unknown key 'wacth'");
    Files.writeString(file, "runner:\n  sources:\n    - {name: a}\n");
    assertThatThrownBy(() -> RunnerOptions.parse(new String[] {"--config", file.toString()}, Map.of()))
        .hasMessageContaining("'runner.sources[0]' has no 'uri'");
  }
}
