package dev.gantry.sidecar.path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.JavaProcess;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The runner process is killed (SIGKILL) under traffic: requests fail fast with 503 naming the
 * cause, readiness turns false, nothing hangs, and all recovers when a runner starts again.
 */
class RunnerFailureTest {
  private static final String BODY =
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[12,70.35,844.2]}]}";

  @Test
  void killedRunnerMeansFast503sAndNotReadyThenRecoveryAfterRestart() throws Exception {
    int port = JavaProcess.freePort();
    JavaProcess runner = JavaProcess.runner(port, "--models", "churn-torchscript");
    try (Sidecar sidecar = Sidecar.start(SidecarConfig.forRunner(port, null))) {
      Http http = new Http(sidecar.port());
      await().atMost(Duration.ofSeconds(30)).until(() -> sidecar.health().ready());
      Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
      List<String> errors = new CopyOnWriteArrayList<>();
      AtomicBoolean running = new AtomicBoolean(true);
      List<Thread> clients = java.util.stream.IntStream.range(0, 4).mapToObj(i -> new Thread(() -> {
        while (running.get()) {
          Http.Reply r = http.postJson("/v2/models/churn-torchscript/infer", BODY);
          statuses.computeIfAbsent(r.status(), s -> new AtomicInteger()).incrementAndGet();
          if (r.status() != 200) {
            errors.add(r.body());
          }
        }
      })).toList();
      clients.forEach(Thread::start);
      await().atMost(Duration.ofSeconds(30)).until(() -> statuses.getOrDefault(200, new AtomicInteger()).get() > 50);

      runner.kill();
      await().atMost(Duration.ofSeconds(30)).until(() -> statuses.getOrDefault(503, new AtomicInteger()).get() > 50);
      assertThat(sidecar.health().ready()).isFalse();
      Http.Reply readyz = http.get("/readyz");
      assertThat(readyz.status()).isEqualTo(503);
      assertThat(readyz.json().getString("reason")).contains("unreachable");
      assertThat(http.get("/livez").status()).isEqualTo(200);

      JavaProcess restarted = JavaProcess.runner(port, "--models", "churn-torchscript");
      try {
        await().atMost(Duration.ofSeconds(30)).until(() -> sidecar.health().ready());
        int okBefore = statuses.get(200).get();
        await().atMost(Duration.ofSeconds(30)).until(() -> statuses.get(200).get() > okBefore + 50);
        running.set(false);
        for (Thread t : clients) {
          t.join(60_000);
          assertThat(t.isAlive()).as("no client is left hanging").isFalse();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> http.get("/readyz").status() == 200);
      } finally {
        restarted.close();
      }
      // only successes and explained 503s: the runner unreachable, a call cut off by the kill, or (restarted)
      // still loading its model
      assertThat(statuses.keySet()).containsOnly(200, 503);
      assertThat(errors).allSatisfy(e -> assertThat(e).containsAnyOf("model-runner at 127.0.0.1:" + port
          + " is unreachable", "model-runner at 127.0.0.1:" + port + " ended the call without an answer",
          "model 'churn-torchscript' is not loaded (LOADING)"));
      assertThat(errors).anySatisfy(e -> assertThat(e).contains("is unreachable"));
    } finally {
      runner.close();
    }
  }
}
