package dev.gantry.sidecar.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.JavaProcess;
import dev.gantry.sidecar.Load;
import dev.gantry.sidecar.routing.Specs;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A rolling update played on one machine, with the timings the manifests give. An old pod (a runner and a sidecar
 * process) serves steady load through a stand-in for a Kubernetes Service: a TCP proxy that sends each new connection
 * to one of the current endpoints and leaves open connections where they are, as kube-proxy does. A new pod is started
 * and joins the endpoints once its readiness probe passes; then the old pod is deleted: it leaves the endpoints a
 * second later (the endpoints controller's and kube-proxy's lag), its sidecar gets SIGTERM when its preStop sleep
 * ends, its runner when its own does. No request may fail, and both processes must exit before
 * terminationGracePeriodSeconds.
 */
class RollingUpdateTest {
  /** Models the pods serve (the example repository's churn models; fewer models start faster). */
  static final String MODELS = "customer-churn";

  record Pod(JavaProcess runner, JavaProcess sidecar, int port) implements AutoCloseable {
    static Pod start(JsonNode config) throws Exception {
      int runnerPort = JavaProcess.freePort();
      JavaProcess runner = JavaProcess.runner(runnerPort, "--models", MODELS, "--shutdown-grace-ms",
          config.path("runner").path("shutdown_grace_ms").asText());
      int port = JavaProcess.freePort();
      JavaProcess sidecar = JavaProcess.start("dev.gantry.sidecar.SidecarMain", "event=sidecar_started",
          "--host", "127.0.0.1", "--port", Integer.toString(port), "--runner-port", Integer.toString(runnerPort),
          "--cluster", "off", "--admin-port", "0", "--event-loops", "1",
          "--shutdown-grace-ms", config.path("sidecar").path("shutdown_grace_ms").asText());
      return new Pod(runner, sidecar, port);
    }

    @Override
    public void close() throws InterruptedException {
      sidecar.close();
      runner.close();
    }
  }

  /** A Service's virtual IP: each connection goes to one endpoint, chosen when it opens. */
  static final class ServiceProxy implements AutoCloseable {
    final Vertx vertx = Vertx.vertx();
    final AtomicReference<List<Integer>> endpoints = new AtomicReference<>(List.of());
    final AtomicInteger next = new AtomicInteger();
    final NetClient client = vertx.createNetClient();
    final NetServer server;

    ServiceProxy() {
      server = vertx.createNetServer().connectHandler(in -> {
        in.pause();
        List<Integer> now = endpoints.get();
        int port = now.get(Math.floorMod(next.getAndIncrement(), now.size()));
        client.connect(port, "127.0.0.1").onSuccess(out -> {
          in.pipeTo(out);
          out.pipeTo(in);
        }).onFailure(e -> in.close());
      }).listen(0, "127.0.0.1").await();
    }

    int port() {
      return server.actualPort();
    }

    @Override
    public void close() {
      vertx.close().await();
    }
  }

  static long sleepSeconds(Container c) {
    return KubernetesManifestsTest.sleepSeconds(c);
  }

  @Test
  void aRollingUpdateUnderSteadyLoadLosesNoRequest() throws Exception {
    List<HasMetadata> objects = KubernetesManifestsTest.render("prod");
    JsonNode config = KubernetesManifestsTest.gantryYaml(objects);
    PodSpec spec = KubernetesManifestsTest.one(objects, Deployment.class, "gantry").getSpec().getTemplate().getSpec();
    long sidecarPreStop = sleepSeconds(KubernetesManifestsTest.container(spec, "sidecar-proxy"));
    long runnerPreStop = sleepSeconds(KubernetesManifestsTest.container(spec, "model-runner"));
    long grace = spec.getTerminationGracePeriodSeconds();
    String path = "/v2/models/customer-churn/versions/1/infer";
    try (Pod old = Pod.start(config); ServiceProxy service = new ServiceProxy()) {
      await().atMost(Duration.ofSeconds(60)).until(() -> new Http(old.port()).tryGet("/readyz").status() == 200);
      service.endpoints.set(List.of(old.port()));
      try (Load load = Load.start(List.of(service.port()), path, List.of(Specs.disputedRow()), 100,
          (int) (runnerPreStop + grace + 30))) {
        await().atMost(Duration.ofSeconds(30)).until(() -> load.count("-", 200) > 200);
        // maxSurge 1: the new pod starts, and joins the Service when its readiness probe passes
        try (Pod fresh = Pod.start(config)) {
          await().atMost(Duration.ofSeconds(60)).until(() -> new Http(fresh.port()).tryGet("/readyz").status() == 200);
          service.endpoints.set(List.of(old.port(), fresh.port()));
          await().atMost(Duration.ofSeconds(10)).until(() -> load.answered() > load.sent() / 2);
          long deleted = System.nanoTime();
          List<Thread> kubelet = new ArrayList<>();
          kubelet.add(at(deleted, 1, () -> service.endpoints.set(List.of(fresh.port()))));
          AtomicReference<Boolean> sidecarExited = new AtomicReference<>();
          AtomicReference<Boolean> runnerExited = new AtomicReference<>();
          kubelet.add(at(deleted, sidecarPreStop, () -> sidecarExited.set(terminate(old.sidecar()))));
          kubelet.add(at(deleted, runnerPreStop, () -> runnerExited.set(terminate(old.runner()))));
          for (Thread t : kubelet) {
            t.join();
          }
          long tookSeconds = Duration.ofNanos(System.nanoTime() - deleted).toSeconds();
          assertThat(sidecarExited.get()).isTrue();
          assertThat(runnerExited.get()).isTrue();
          assertThat(tookSeconds).isLessThan(grace);
          // the new pod serves on alone for a while
          long before = load.answered();
          await().atMost(Duration.ofSeconds(10)).until(() -> load.answered() > before + 200);
          load.close();
          assertThat(load.failed()).as("failed answers: " + load.answers()).isZero();
          assertThat(load.answered()).isEqualTo(load.sent());
          assertThat(old.sidecar().log()).anyMatch(l -> l.contains("event=sidecar_drained"));
        }
      }
    }
  }

  /** Runs {@code action} {@code seconds} after {@code startNanos}, on its own thread. */
  static Thread at(long startNanos, long seconds, Runnable action) {
    Thread t = new Thread(() -> {
      long wait = startNanos + Duration.ofSeconds(seconds).toNanos() - System.nanoTime();
      if (wait > 0) {
        java.util.concurrent.locks.LockSupport.parkNanos(wait);
      }
      action.run();
    }, "kubelet");
    t.start();
    return t;
  }

  static boolean terminate(JavaProcess p) {
    try {
      return p.terminate();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
