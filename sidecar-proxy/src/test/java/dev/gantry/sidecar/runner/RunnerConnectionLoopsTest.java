package dev.gantry.sidecar.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.sidecar.path.HeldUpstream;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Calls made on an event loop go out on that loop's own connection to the runner (no hand-off to another thread
 * and back), over real HTTP/2 connections to a stand-in runner.
 */
class RunnerConnectionLoopsTest {
  private HeldUpstream upstream;
  private Vertx vertx;
  private RunnerConnection runner;

  @BeforeEach
  void start() {
    upstream = new HeldUpstream();
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    runner = new RunnerConnection(vertx, "127.0.0.1", upstream.port(), 1 << 20, 16, 5000);
  }

  @AfterEach
  void stop() {
    runner.close().await();
    vertx.close().await();
    upstream.close();
  }

  /** Runs an inference call on {@code context}; answers the thread the answer arrived on and the answer. */
  private Map.Entry<String, ModelInferResponse> inferOn(Context context) throws Exception {
    CompletableFuture<Map.Entry<String, ModelInferResponse>> result = new CompletableFuture<>();
    context.runOnContext(v -> runner.infer(HeldUpstream.request(), TimeUnit.SECONDS.toNanos(5), Map.of(), null)
        .onComplete(ar -> {
          if (ar.succeeded()) {
            result.complete(Map.entry(Thread.currentThread().getName(), ar.result()));
          } else {
            result.completeExceptionally(ar.cause());
          }
        }));
    return result.get(10, TimeUnit.SECONDS);
  }

  @Test
  void eachEventLoopHasItsOwnConnectionAndCallsOffTheLoopsShareOne() throws Exception {
    List<Context> loops = new CopyOnWriteArrayList<>();
    vertx.deployVerticle(() -> new AbstractVerticle() {
      @Override
      public void start() {
        loops.add(context);
      }
    }, new DeploymentOptions().setInstances(2)).await();
    String threadA = inferOn(loops.get(0)).getKey();
    String threadB = inferOn(loops.get(1)).getKey();
    assumeThat(threadA).as("two event loops").isNotEqualTo(threadB);
    for (int i = 0; i < 5; i++) {
      assertThat(inferOn(loops.get(0)).getKey()).isEqualTo(threadA);
      assertThat(inferOn(loops.get(1)).getKey()).isEqualTo(threadB);
    }
    assertThat(upstream.inferRequests).hasSize(12);
    assertThat(upstream.connections.get()).as("one connection per event loop, reused").isEqualTo(2);

    // a call from no Vert.x thread (start-up, a worker) uses the shared client: one more connection, then reused
    for (int i = 0; i < 3; i++) {
      assertThat(runner.infer(HeldUpstream.request(), TimeUnit.SECONDS.toNanos(5), Map.of(), null)
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).getOutputsCount()).isEqualTo(1);
    }
    assertThat(upstream.connections.get()).isEqualTo(3);
  }
}
