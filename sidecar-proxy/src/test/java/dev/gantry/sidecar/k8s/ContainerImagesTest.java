package dev.gantry.sidecar.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * Both images built from the Dockerfile's two targets and run as a pod runs them: the sidecar shares the runner container's
 * network namespace (as containers of one pod do), so it reaches the runner on loopback; a prediction comes back
 * through the sidecar. Needs a Docker engine: skipped where there is none (the manifests and processes are proven
 * without one by {@link KubernetesManifestsTest} and the process tests).
 */
@Testcontainers(disabledWithoutDocker = true)
class ContainerImagesTest {
  @Test
  void theImagesServeAPredictionTogether() throws Exception {
    Path root = KubernetesManifestsTest.root();
    ImageFromDockerfile runnerImage = new ImageFromDockerfile("gantry/model-runner", false)
        .withFileFromPath(".", root).withDockerfile(root.resolve("Dockerfile")).withTarget("model-runner");
    ImageFromDockerfile sidecarImage = new ImageFromDockerfile("gantry/sidecar-proxy", false)
        .withFileFromPath(".", root).withDockerfile(root.resolve("Dockerfile")).withTarget("sidecar-proxy");
    try (GenericContainer<?> runner = new GenericContainer<>(runnerImage)
            .withCommand("--model-repository", "/opt/gantry/examples/models", "--models", "churn-onnx")
            // the sidecar's port is published by the container that owns the shared network namespace
            .withExposedPorts(8080)
            .waitingFor(Wait.forLogMessage(".*event=runner_started.*", 1).withStartupTimeout(Duration.ofMinutes(3)))) {
      runner.start();
      try (GenericContainer<?> sidecar = new GenericContainer<>(sidecarImage)
          .withNetworkMode("container:" + runner.getContainerId())
          .withCommand("--cluster", "off", "--default-model", "churn-onnx")) {
        sidecar.start();
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://" + runner.getHost() + ":" + runner.getMappedPort(8080);
        org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(2)).until(() -> http.send(HttpRequest
            .newBuilder(URI.create(base + "/readyz")).build(), HttpResponse.BodyHandlers.discarding())
            .statusCode() == 200);
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/invocations"))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"dataframe_records\": [{\"tenure\": 12, \"monthly_charges\":"
                + " 70.35, \"total_charges\": 844.2, \"contract_type\": \"Month-to-month\", \"payment_method\":"
                + " \"Electronic check\"}]}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).startsWith("{\"predictions\":[[");
      }
    }
  }
}
