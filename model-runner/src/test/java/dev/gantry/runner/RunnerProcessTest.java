package dev.gantry.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runner as its own OS process (as deployed), called by a client that is not ours: Python's
 * grpcio from Debian's packages with stubs made by Debian's protoc from our .proto.
 */
class RunnerProcessTest {
  private static final String PYTHON = "/usr/bin/python3";

  @TempDir
  Path stubs;

  @Test
  void pythonGrpcioClientGetsMetadataAndChurnProbabilitiesFromARunnerProcess() throws Exception {
    assumeTrue(Files.isExecutable(Path.of(PYTHON)) && Files.isExecutable(Path.of("/usr/bin/protoc"))
        && Files.isExecutable(Path.of("/usr/bin/grpc_python_plugin"))
        && new ProcessBuilder(PYTHON, "-c", "import grpc, google.protobuf").start().waitFor() == 0,
        "needs python3-grpcio, python3-protobuf, protobuf-compiler and protobuf-compiler-grpc (installed by .ci/run)");
    List<String> log;
    Path root = TestModels.examples().getParent().getParent();
    run(List.of("/usr/bin/protoc", "-I", root.resolve("shared-proto/src/main/proto").toString(),
        "--python_out=" + stubs, "--grpc_python_out=" + stubs,
        "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin", "grpc_service.proto"));

    try (RunnerProcess runner = RunnerProcess.start("--model-repository", TestModels.examples().toString(),
        "--models", "churn-onnx")) {
      String out = run(List.of(PYTHON, root.resolve("model-runner/src/test/python/oip_client.py").toString(),
          Integer.toString(runner.grpcPort()), stubs.toString()));
      JsonNode json = new ObjectMapper().readTree(out);
      assertThat(json.get("live").asBoolean()).isTrue();
      assertThat(json.at("/metadata/platform").asText()).isEqualTo("onnxruntime_onnx");
      assertThat(json.at("/metadata/inputs/3/datatype").asText()).isEqualTo("BYTES");
      JsonNode expected = TestModels.expected().get("churn-onnx");
      for (String mode : List.of("typed", "raw")) {
        JsonNode r = json.get(mode);
        assertThat(r.get("id").asText()).isEqualTo("py-" + mode);
        assertThat(r.get("version").asText()).isEqualTo("1");
        for (int row = 0; row < 2; row++) {
          for (int c = 0; c < 2; c++) {
            assertThat(r.get("probabilities").get(row * 2 + c).asDouble())
                .isCloseTo(expected.get(row).get(c).asDouble(), within(1e-4));
          }
        }
      }
      assertThat(json.at("/unknown_model/code").asText()).isEqualTo("NOT_FOUND");
      assertThat(json.at("/unknown_model/details").asText()).contains("unknown model 'nope'");
      runner.terminate();
      assertThat(runner.waitFor(60, TimeUnit.SECONDS)).as("runner stops on SIGTERM").isTrue();
      log = runner.log();
    }
    assertThat(log).anyMatch(l -> l.contains("event=runner_stopped"));
    assertThat(log).anyMatch(l -> l.contains("churn-onnx") && l.contains("OnnxRuntime") && l.contains("warm-up"));
  }

  private static String run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s%n%s", command, out).isZero();
    return out.trim();
  }
}
