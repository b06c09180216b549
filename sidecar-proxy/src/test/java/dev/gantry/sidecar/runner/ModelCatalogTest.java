package dev.gantry.sidecar.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.sidecar.path.HeldUpstream;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The metadata catalog over a real gRPC link to a stand-in runner. */
class ModelCatalogTest {
  private HeldUpstream upstream;
  private Vertx vertx;
  private RunnerConnection runner;
  private ModelCatalog catalog;

  @BeforeEach
  void start() {
    upstream = new HeldUpstream();
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    runner = new RunnerConnection(vertx, "127.0.0.1", upstream.port(), 1 << 20, 16, 5000);
    catalog = new ModelCatalog(runner, TimeUnit.SECONDS.toNanos(5));
  }

  @AfterEach
  void stop() {
    runner.close().await();
    vertx.close().await();
    upstream.close();
  }

  private static <T> T on(Context context, java.util.function.Function<CompletableFuture<T>, Runnable> work)
      throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    context.runOnContext(v -> work.apply(result).run());
    return result.get(10, TimeUnit.SECONDS);
  }

  @Test
  void aCachedEntryContinuesOnTheCallersOwnEventLoopNotTheOneThatFetchedIt() throws Exception {
    java.util.List<Context> loops = new java.util.concurrent.CopyOnWriteArrayList<>();
    vertx.deployVerticle(() -> new io.vertx.core.AbstractVerticle() {
      @Override
      public void start() {
        loops.add(context);
      }
    }, new io.vertx.core.DeploymentOptions().setInstances(2)).await();
    Context a = loops.get(0);
    Context b = loops.get(1);
    String threadA = on(a, r -> () -> r.complete(Thread.currentThread().getName()));
    String threadB = on(b, r -> () -> r.complete(Thread.currentThread().getName()));
    assumeThat(threadA).as("two event loops").isNotEqualTo(threadB);

    String fetchedOn = on(a, r -> () -> catalog.metadata("m", "").map(m -> Thread.currentThread().getName())
        .onComplete(ar -> r.complete(ar.succeeded() ? ar.result() : ar.cause().toString())));
    assertThat(fetchedOn).isEqualTo(threadA);
    String continuedOn = on(b, r -> () -> catalog.metadata("m", "").map(m -> Thread.currentThread().getName())
        .onComplete(ar -> r.complete(ar.succeeded() ? ar.result() : ar.cause().toString())));
    assertThat(continuedOn).isEqualTo(threadB);
  }

  @Test
  void versionSpellingsSentByCallersDoNotGrowTheCatalog() throws Exception {
    Context a = vertx.getOrCreateContext();
    for (int i = 0; i < 50; i++) {
      String spelling = "0".repeat(i) + "1";
      on(a, r -> () -> catalog.metadata("m", spelling).onComplete(ar -> r.complete(ar.succeeded())));
      on(a, r -> () -> catalog.metadata("ghost-" + spelling, "").onComplete(ar -> r.complete(ar.succeeded())));
    }
    // only the canonical "1" (listed by the runner) is kept; unknown models are never kept
    assertThat(catalog.size()).isLessThanOrEqualTo(1);
  }

  @Test
  void invalidatingAModelMakesTheNextLookupAskTheRunnerAgain() throws Exception {
    Context a = vertx.getOrCreateContext();
    upstream.columns = java.util.List.of("a", "b");
    ModelMetadataResponse first = on(a, r -> () -> catalog.metadata("m", "").onSuccess(r::complete));
    upstream.columns = java.util.List.of("b", "a");
    upstream.version = "2";
    ModelMetadataResponse cached = on(a, r -> () -> catalog.metadata("m", "").onSuccess(r::complete));
    assertThat(cached).isSameAs(first);
    catalog.invalidate("m");
    ModelMetadataResponse fresh = on(a, r -> () -> catalog.metadata("m", "").onSuccess(r::complete));
    assertThat(fresh.getInputs(0).getParametersOrThrow("columns").getStringParam()).isEqualTo("b,a");
    assertThat(ModelCatalog.describedVersion(fresh, "")).isEqualTo("2");
  }
}
