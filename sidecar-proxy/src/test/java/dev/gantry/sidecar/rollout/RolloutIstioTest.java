package dev.gantry.sidecar.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.Load;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import dev.gantry.sidecar.Stack;
import dev.gantry.sidecar.routing.Specs;
import io.fabric8.istio.api.networking.v1.VirtualService;
import io.fabric8.istio.client.IstioClient;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The rollout controller driving an Istio VirtualService (with {@code traffic: both}, so that the sidecar's own
 * split also sends the canary the traffic its built-in checks judge). fabric8's mock Kubernetes API server in CRUD
 * mode stands in for the API server, which cannot run here; it holds the example VirtualService of {@code istio/}.
 * The weights the controller writes are followed by reading the VirtualService back.
 */
@EnableKubernetesMockClient(crud = true)
class RolloutIstioTest {
  KubernetesClient client;

  private VirtualService example(String name) throws Exception {
    String yaml = Files.readString(Stack.examples().getParent().getParent().resolve("istio/virtualservice.yaml"))
        .replace("name: churn\n", "name: " + name + "\n");
    VirtualService vs = client.getKubernetesSerialization().unmarshal(yaml, VirtualService.class);
    return client.adapt(IstioClient.class).v1().virtualServices().inNamespace("models").resource(vs).create();
  }

  /**
   * Follows a VirtualService's canary weight: read every 20 ms (the controller's writes are a second or more apart),
   * each change appended to {@code seen}.
   */
  private ScheduledFuture<?> follow(ScheduledExecutorService poller, String name, List<Integer> seen) {
    return poller.scheduleWithFixedDelay(() -> {
      int w = weight(name, "canary");
      if (seen.isEmpty() ? w != 0 : seen.get(seen.size() - 1) != w) {
        seen.add(w);
      }
    }, 0, 20, TimeUnit.MILLISECONDS);
  }

  private int weight(String name, String subset) {
    return client.adapt(IstioClient.class).v1().virtualServices().inNamespace("models").withName(name).get()
        .getSpec().getHttp().get(0).getRoute().stream().filter(d -> d.getDestination().getSubset().equals(subset))
        .findFirst().orElseThrow().getWeight();
  }

  private static String rollout(String name, String canaryVersion, String steps) {
    return """
        endpoint: %s
        stable: stable
        canary: canary
        steps: %s
        analysis:
          interval: 1s
          min_requests: 5
          checks: [{metric: error_rate, max: 0.05}]
        traffic: both
        istio: {namespace: models, virtual_service: %s, stable_subset: stable, canary_subset: canary}
        """.formatted(name, steps, name);
  }

  @Test
  void weightsArePatchedAtEveryStepAndRestoredOnRollback() throws Exception {
    example("churn");
    example("faulty");
    try (ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(Stack.examples()));
        Sidecar sidecar = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), null)
            .withAdmin(Optional.empty(), List.of()), () -> client)) {
      await().until(() -> sidecar.health().ready());
      Http admin = new Http(sidecar.adminPort());
      for (String[] e : new String[][] {{"churn", "2"}, {"faulty", "3"}}) {
        assertThat(admin.request("PUT", "/admin/v1/endpoints/" + e[0], "application/json", Specs.churn(100, 0)
            .replace("\"churn\"", "\"" + e[0] + "\"").replace("\"version\": \"2\"", "\"version\": \"" + e[1] + "\""))
            .status()).isEqualTo(201);
      }
      List<Integer> churnWrites = new CopyOnWriteArrayList<>();
      List<Integer> faultyWrites = new CopyOnWriteArrayList<>();
      ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor();
      follow(poller, "churn", churnWrites);
      follow(poller, "faulty", faultyWrites);
      try (Load load = Load.start(List.of(sidecar.port()), "/v2/models/churn/infer", List.of(Specs.disputedRow()),
          100, 60)) {
        Http.Reply put = admin.request("PUT", "/admin/v1/rollouts/churn", "application/yaml",
            rollout("churn", "2", "[{weight: 10}, {weight: 50}, {weight: 100}]"));
        assertThat(put.status()).as(put.body()).isEqualTo(201);
        await().atMost(Duration.ofSeconds(40)).until(() -> admin.get("/admin/v1/rollouts/churn/status").json()
            .getString("phase").equals("SUCCEEDED"));
      }
      await().untilAsserted(() -> assertThat(churnWrites).containsExactly(10, 50, 100));
      assertThat(weight("churn", "canary")).isEqualTo(100);
      assertThat(weight("churn", "stable")).isZero();

      // v3 fails on this row: the rollout rolls back, and the VirtualService returns all traffic to stable
      try (Load load = Load.start(List.of(sidecar.port()), "/v2/models/faulty/infer", List.of(Specs.disputedRow()),
          100, 60)) {
        Http.Reply put = admin.request("PUT", "/admin/v1/rollouts/faulty", "application/yaml",
            rollout("faulty", "3", "[{weight: 10}, {weight: 50}, {weight: 100}]"));
        assertThat(put.status()).as(put.body()).isEqualTo(201);
        await().atMost(Duration.ofSeconds(40)).until(() -> admin.get("/admin/v1/rollouts/faulty/status").json()
            .getString("phase").equals("ROLLED_BACK"));
        await().atMost(Duration.ofSeconds(10)).until(() -> weight("faulty", "canary") == 0);
      }
      await().untilAsserted(() -> assertThat(faultyWrites).containsExactly(10, 0));
      poller.shutdownNow();
      assertThat(weight("faulty", "stable")).isEqualTo(100);
    }
  }
}
