package dev.gantry.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gantry.sidecar.path.HeldUpstream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Shutdown drains: readiness turns false at once, requests in flight finish, new ones are refused
 * cleanly, and the process exits within its grace period. The runner is a stand-in whose answers
 * take a set time, so that requests are surely in flight when the signal comes.
 */
class SidecarDrainTest {
  private static final String V2 = HeldUpstream.V2_BODY;

  private record Call(long startNanos, long endNanos, int status, String error) {}

  @Test
  void drainingIsNotReadyAtOnceAndLetsRequestsInFlightFinish() throws Exception {
    try (HeldUpstream upstream = new HeldUpstream()) {
      upstream.delayMs = 1500;
      Sidecar sidecar = Sidecar.start(SidecarConfig.forRunner(upstream.port(), "m"));
      try {
        await().atMost(Duration.ofSeconds(20)).until(() -> sidecar.health().ready());
        Http http = new Http(sidecar.port());
        List<CompletableFuture<Http.Reply>> inFlight = IntStream.range(0, 3).mapToObj(i ->
            CompletableFuture.supplyAsync(() -> http.tryPost("/v2/models/m/infer", "application/json", V2))).toList();
        GrpcCalls grpc = new GrpcCalls(sidecar.port());
        var grpcInFlight = IntStream.range(0, 3).mapToObj(i -> grpc.callAsync(
            dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient.ModelInfer, HeldUpstream.request(), 0)
            .toCompletionStage().toCompletableFuture()).toList();
        await().atMost(Duration.ofSeconds(10)).until(() -> upstream.inferRequests.size() == 6);
        long start = System.nanoTime();
        CompletableFuture<Void> drained = CompletableFuture.runAsync(() -> sidecar.drain(20_000));
        await().atMost(Duration.ofSeconds(1)).until(() -> !sidecar.health().ready());
        for (CompletableFuture<Http.Reply> f : inFlight) {
          assertThat(f.get(30, TimeUnit.SECONDS).status()).isEqualTo(200);
        }
        for (var f : grpcInFlight) {
          assertThat(f.get(30, TimeUnit.SECONDS).status()).isEqualTo(io.vertx.grpc.common.GrpcStatus.OK);
        }
        grpc.close();
        drained.get(30, TimeUnit.SECONDS);
        // it waited for the requests, not for the whole grace period
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(15_000);
        assertThat(http.tryPost("/v2/models/m/infer", "application/json", V2).status())
            .as("a drained sidecar takes no new requests").isEqualTo(-1);
      } finally {
        sidecar.close();
      }
    }
  }

  @Test
  void sigtermUnderSteadyLoadFailsNoRequestThatArrivedBeforeItAndExitsWithinTheGrace() throws Exception {
    try (HeldUpstream upstream = new HeldUpstream()) {
      upstream.delayMs = 500;
      int port = JavaProcess.freePort();
      JavaProcess sidecar = JavaProcess.start("dev.gantry.sidecar.SidecarMain", "event=sidecar_started",
          "--host", "127.0.0.1", "--port", Integer.toString(port), "--runner-port", Integer.toString(upstream.port()),
          "--default-model", "m", "--health-interval-ms", "200", "--shutdown-grace-ms", "5000", "--cluster", "off",
          "--admin-port", "0");
      try {
        Http http = new Http(port);
        await().atMost(Duration.ofSeconds(30)).until(() -> http.tryPost("/v2/models/m/infer", "application/json", V2)
            .status() == 200);
        List<Call> calls = new CopyOnWriteArrayList<>();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> clients = IntStream.range(0, 4).mapToObj(i -> new Thread(() -> {
          Http own = new Http(port);
          // staggered by a quarter of the answer time, so that requests are in flight at every moment
          java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(125L * i));
          while (running.get()) {
            long s = System.nanoTime();
            Http.Reply r = own.tryPost("/v2/models/m/infer", "application/json", V2);
            calls.add(new Call(s, System.nanoTime(), r.status(), r.status() == 200 ? "" : r.body()));
          }
        })).toList();
        clients.forEach(Thread::start);
        await().atMost(Duration.ofSeconds(30)).until(() -> calls.stream().filter(c -> c.status() == 200).count() > 20);

        long term = System.nanoTime();
        CompletableFuture<Boolean> exited = CompletableFuture.supplyAsync(() -> {
          try {
            return sidecar.terminate();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
        assertThat(exited.get(30, TimeUnit.SECONDS)).as("the process exited").isTrue();
        long exitMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - term);
        running.set(false);
        for (Thread t : clients) {
          t.join(60_000);
        }
        assertThat(exitMs).as("exit within the 5 s grace (plus JVM start-up of the signal)").isLessThan(8000);
        assertThat(sidecar.log()).anySatisfy(l -> assertThat(l).contains("event=sidecar_draining"));
        // a request sent well before the signal had reached the sidecar; 20 ms covers one that the client had
        // written to its kept-alive connection but the sidecar had not read yet (that race is HTTP/1.1's own)
        long arrivedBefore = term - TimeUnit.MILLISECONDS.toNanos(20);
        List<Call> before = calls.stream().filter(c -> c.startNanos() < arrivedBefore).toList();
        assertThat(before).isNotEmpty().allSatisfy(c -> assertThat(c.status()).as(c.error()).isEqualTo(200));
        assertThat(calls).as("requests in flight at the signal were answered after it")
            .anySatisfy(c -> {
              assertThat(c.startNanos()).isLessThan(arrivedBefore);
              assertThat(c.endNanos()).isGreaterThan(term);
              assertThat(c.status()).isEqualTo(200);
            });
        assertThat(calls).allSatisfy(c -> assertThat(c.status()).isIn(200, 503, -1));
      } finally {
        sidecar.close();
      }
    }
  }
}
