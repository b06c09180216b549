package dev.gantry.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
    Path root = TestModels.examples().getParent().getParent();
    run(List.of("/usr/bin/protoc", "-I", root.resolve("shared-proto/src/main/proto").toString(),
        "--python_out=" + stubs, "--grpc_python_out=" + stubs,
        "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin", "grpc_service.proto"));

    Process runner = new ProcessBuilder(javaBin(), "-Dai.djl.offline=true", "-cp",
        System.getProperty("java.class.path"), "dev.gantry.runner.RunnerMain",
        "--model-repository", TestModels.examples().toString(), "--grpc-port", "0", "--metrics-port", "0",
        "--models", "churn-onnx")
        .redirectErrorStream(true).start();
    List<String> log = new CopyOnWriteArrayList<>();
    CompletableFuture<Integer> port = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(runner.getInputStream(),
          StandardCharsets.UTF_8))) {
        Pattern started = Pattern.compile("event=runner_started grpc=(\\d+)");
        for (String line; (line = r.readLine()) != null; ) {
          log.add(line);
          Matcher m = started.matcher(line);
          if (m.find()) {
            port.complete(Integer.parseInt(m.group(1)));
          }
        }
      } catch (IOException e) {
        port.completeExceptionally(e);
      }
      port.completeExceptionally(new IllegalStateException("runner exited: " + log));
    });
    reader.start();
    try {
      int grpcPort = port.get(120, TimeUnit.SECONDS);
      String out = run(List.of(PYTHON, root.resolve("model-runner/src/test/python/oip_client.py").toString(),
          Integer.toString(grpcPort), stubs.toString()));
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
    } finally {
      // SIGTERM as Kubernetes sends it (Process.destroy() would also close our end of its output)
      new ProcessBuilder("kill", "-TERM", Long.toString(runner.pid())).start().waitFor();
      boolean exited = runner.waitFor(60, TimeUnit.SECONDS);
      if (!exited) {
        runner.destroyForcibly();
      }
      assertThat(exited).as("runner stops on SIGTERM").isTrue();
      reader.join(10_000);
    }
    assertThat(log).anyMatch(l -> l.contains("event=runner_stopped"));
    assertThat(log).anyMatch(l -> l.contains("churn-onnx") && l.contains("OnnxRuntime") && l.contains("warm-up"));
  }

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static String run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s%n%s", command, out).isZero();
    return out.trim();
  }
}
