package dev.gantry.runner.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gantry.runner.TestModels;
import dev.gantry.runner.engine.EngineLoader;
import dev.gantry.runner.engine.LoadedModel;
import dev.gantry.runner.engine.ModelLoader;
import dev.gantry.runner.inference.ErrorKind;
import dev.gantry.runner.inference.InferRequest;
import dev.gantry.runner.inference.InferResult;
import dev.gantry.runner.inference.InferenceException;
import dev.gantry.runner.inference.Tensor;
import dev.gantry.runner.metrics.RunnerMetrics;
import dev.gantry.runner.repository.ModelRepository;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Errors (not exceptions) from the engine, injected around the real TorchScript MLP: the runner
 * answers every request, never leaves a model LOADING or loaded for nothing, and reports a model
 * whose instance cannot go on as not ready.
 */
class EngineErrorTest {
  /** The first feature value that makes the hooked engine throw an InternalError. */
  private static final float BREAKS = -1f;
  /** The first feature value that makes it run out of memory. */
  private static final float OUT_OF_MEMORY = -2f;

  @TempDir
  Path repo;
  private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
  private final List<LoadedModel> loaded = new CopyOnWriteArrayList<>();
  private ModelManager models;

  @BeforeEach
  void copyModel() {
    TestModels.copyModel(TestModels.examples().resolve("churn-torchscript"), repo, "mlp");
  }

  @AfterEach
  void stop() {
    if (models != null) {
      models.close();
    }
    timers.shutdownNow();
  }

  private ModelManager manager(LoadedModel.RunHook hook) {
    ModelLoader real = new ModelLoader();
    EngineLoader hooked = (config, file) -> {
      LoadedModel m = real.load(config, file).withRunHook(hook);
      loaded.add(m);
      return m;
    };
    models = new ModelManager(new ModelRepository(repo, Optional.empty()), hooked,
        new RunnerMetrics(new SimpleMeterRegistry()), timers);
    return models;
  }

  /** Throws what the first input's first value asks for; warm-up sends zeros. */
  private static final LoadedModel.RunHook POISONABLE = (inputs, engine) -> {
    float first = inputs.get(0).asFloats()[0];
    if (first == BREAKS) {
      throw new InternalError("engine state corrupted (simulated)");
    }
    if (first == OUT_OF_MEMORY) {
      throw new OutOfMemoryError("Java heap space (simulated)");
    }
    return engine.apply(inputs);
  };

  private static InferRequest row(float first) {
    return new InferRequest("", List.of(Tensor.ofFloats("input", new long[] {1, 3}, first, 70, 800)), Set.of(), 0);
  }

  private static Throwable failure(CompletableFuture<?> f) throws Exception {
    Throwable e = f.handle((v, error) -> error).get(30, TimeUnit.SECONDS);
    assertThat(e).as("the call failed").isNotNull();
    return e;
  }

  @Test
  void anErrorDuringWarmUpFreesTheModelAndLeavesItUnavailableNotLoading() throws Exception {
    ModelManager m = manager((inputs, engine) -> {
      throw new InternalError("warm-up blew up (simulated)");
    });
    Throwable e = failure(m.load("mlp"));
    assertThat(InferenceException.of(e).kind()).isEqualTo(ErrorKind.INTERNAL);
    assertThat(e).hasMessageContaining("warm-up blew up");
    assertThat(m.index(false)).singleElement().satisfies(entry -> {
      assertThat(entry.state()).isEqualTo(ModelState.UNAVAILABLE);
      assertThat(entry.reason()).contains("warm-up blew up");
    });
    assertThat(loaded).isNotEmpty().allSatisfy(model -> assertThat(model.isClosed()).isTrue());
    assertThat(m.ready()).isFalse();
  }

  @Test
  void anOutOfMemoryErrorFailsOnlyItsRequestAndTheModelStaysReady() throws Exception {
    ModelManager m = manager(POISONABLE);
    m.load("mlp").get(60, TimeUnit.SECONDS);
    Throwable e = failure(m.infer("mlp", "", row(OUT_OF_MEMORY)));
    assertThat(InferenceException.of(e).kind()).isEqualTo(ErrorKind.INTERNAL);
    assertThat(e).hasMessageContaining("OutOfMemoryError");
    assertThat(m.ready()).isTrue();
    InferResult ok = m.infer("mlp", "", row(12)).get(30, TimeUnit.SECONDS);
    assertThat(ok.outputs().get(0).shape()).containsExactly(1, 2);
  }

  @Test
  void anInstanceThatCannotGoOnMakesTheModelNotReadyAndLaterRequestsAreAnsweredAtOnce() throws Exception {
    ModelManager m = manager(POISONABLE);
    m.load("mlp").get(60, TimeUnit.SECONDS);
    assertThat(m.infer("mlp", "", row(12)).get(30, TimeUnit.SECONDS).outputs()).isNotEmpty();
    Throwable broke = failure(m.infer("mlp", "", row(BREAKS)));
    assertThat(InferenceException.of(broke).kind()).isEqualTo(ErrorKind.INTERNAL);
    assertThat(broke).hasMessageContaining("InternalError");

    assertThat(m.ready()).isFalse();
    assertThat(m.modelReady("mlp", "")).isFalse();
    Throwable later = failure(m.infer("mlp", "", row(12)));
    assertThat(InferenceException.of(later).kind()).isEqualTo(ErrorKind.UNAVAILABLE);
    assertThat(later).hasMessageContaining("cannot serve").hasMessageContaining("InternalError");
    // unloading drains and frees it
    m.unload("mlp").get(30, TimeUnit.SECONDS);
    assertThat(loaded).allSatisfy(model -> assertThat(model.isClosed()).isTrue());
  }
}
