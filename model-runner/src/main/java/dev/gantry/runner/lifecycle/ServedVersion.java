package dev.gantry.runner.lifecycle;

import static java.util.Objects.requireNonNull;

import dev.gantry.runner.batching.BatchExecutor;
import dev.gantry.runner.batching.BatchPolicy;
import dev.gantry.runner.batching.DynamicBatcher;
import dev.gantry.runner.engine.LoadedModel;
import dev.gantry.runner.engine.EngineLoader;
import dev.gantry.runner.inference.Cancellation;
import dev.gantry.runner.inference.InferRequest;
import dev.gantry.runner.inference.InferResult;
import dev.gantry.runner.inference.InferenceException;
import dev.gantry.runner.inference.ModelSignature;
import dev.gantry.runner.inference.RequestDecoder;
import dev.gantry.runner.inference.RequestValidator;
import dev.gantry.runner.inference.Shapes;
import dev.gantry.runner.inference.Tensor;
import dev.gantry.runner.inference.TensorSpec;
import dev.gantry.runner.metrics.RunnerMetrics;
import dev.gantry.runner.metrics.VersionMetrics;
import dev.gantry.runner.repository.ModelConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One loaded, warmed-up model version: its engine model, instances and batcher. Requests hold
 * it through {@link #tryAcquire()}/{@link #release()} so that retiring it waits for them.
 */
public final class ServedVersion {
  private final String model;
  private final long version;
  private final ModelConfig config;
  private final LoadedModel loaded;
  private final List<LoadedModel.Instance> instances;
  private final DynamicBatcher batcher;
  private final VersionMetrics metrics;
  private final Duration loadTime;
  private final Duration warmupTime;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final CompletableFuture<Void> drained = new CompletableFuture<>();
  private volatile boolean retiring;

  private ServedVersion(String model, long version, ModelConfig config, LoadedModel loaded,
      List<LoadedModel.Instance> instances, DynamicBatcher batcher, VersionMetrics metrics, Duration loadTime,
      Duration warmupTime) {
    this.model = model;
    this.version = version;
    this.config = config;
    this.loaded = loaded;
    this.instances = instances;
    this.batcher = batcher;
    this.metrics = metrics;
    this.loadTime = loadTime;
    this.warmupTime = warmupTime;
  }

  /**
   * Loads, creates the instances, warms each one up and starts the batcher. Blocks.
   *
   * @param workerSpinNanos how long an idle batcher worker spins before it parks
   */
  static ServedVersion start(ModelConfig config, long version, Path file, EngineLoader loader,
      RunnerMetrics runnerMetrics, ScheduledExecutorService timers, long workerSpinNanos) {
    long t0 = System.nanoTime();
    LoadedModel loaded = loader.load(config, file);
    List<LoadedModel.Instance> instances = new ArrayList<>();
    try {
      for (int i = 0; i < config.instanceCount(); i++) {
        instances.add(loaded.newInstance());
      }
      long t1 = System.nanoTime();
      warmUp(config, loaded.signature(), instances);
      long t2 = System.nanoTime();
      String label = "model '" + config.name() + "' version " + version;
      BatchPolicy policy = config.dynamicBatching()
          .map(b -> new BatchPolicy(true, config.maxBatchSize(), TimeUnit.MICROSECONDS.toNanos(b.maxQueueDelayMicros()),
              b.preferredBatchSizes(), b.maxQueueSize(), b.queueDelayPolicy()))
          .orElse(BatchPolicy.unbatched(config.maxQueueSize()));
      List<BatchExecutor> executors = new ArrayList<>();
      for (LoadedModel.Instance instance : instances) {
        executors.add(instance::run);
      }
      Duration loadTime = Duration.ofNanos(t1 - t0);
      Duration warmupTime = Duration.ofNanos(t2 - t1);
      DynamicBatcher[] holder = new DynamicBatcher[1];
      VersionMetrics metrics = runnerMetrics.version(config.name(), Long.toString(version),
          () -> holder[0] == null ? 0 : holder[0].queueDepth(), loadTime.plus(warmupTime));
      runnerMetrics.queueCapacity(config.name(), Long.toString(version), policy.maxQueueSize());
      // last: once its workers run, nothing above may fail and leave them behind
      holder[0] = new DynamicBatcher(label, policy, executors, timers, metrics, workerSpinNanos);
      return new ServedVersion(config.name(), version, config, loaded, instances, holder[0], metrics, loadTime,
          warmupTime);
    } catch (RuntimeException | Error e) {
      // an Error (out of memory in warm-up, an engine's internal error) must not leak the engine either
      freeQuietly(instances, loaded, e);
      throw e;
    }
  }

  private static void freeQuietly(List<LoadedModel.Instance> instances, LoadedModel loaded, Throwable cause) {
    try {
      instances.forEach(LoadedModel.Instance::close);
      loaded.close();
    } catch (RuntimeException | Error e) {
      cause.addSuppressed(e);
    }
  }

  private static void warmUp(ModelConfig config, ModelSignature signature, List<LoadedModel.Instance> instances) {
    if (config.warmup().iterations() == 0) {
      return;
    }
    List<Tensor> inputs = new ArrayList<>();
    for (TensorSpec spec : signature.inputs()) {
      long[] shape = signature.fullShape(spec);
      for (int d = 0; d < shape.length; d++) {
        if (shape[d] == -1) {
          shape[d] = d == 0 && signature.batches() ? config.warmup().batchSize() : 1;
        }
      }
      int n = Math.toIntExact(Shapes.elementCount(shape));
      inputs.add(spec.datatype().isBytes()
          ? Tensor.ofStrings(spec.name(), shape, emptyStrings(n))
          : Tensor.ofBytes(spec.name(), spec.datatype(), shape, new byte[n * spec.datatype().byteSize()]));
    }
    for (LoadedModel.Instance instance : instances) {
      for (int i = 0; i < config.warmup().iterations(); i++) {
        instance.run(inputs);
      }
    }
  }

  private static byte[][] emptyStrings(int n) {
    byte[][] e = new byte[n][];
    for (int i = 0; i < n; i++) {
      e[i] = new byte[0];
    }
    return e;
  }

  public String model() {
    return model;
  }

  public long version() {
    return version;
  }

  public ModelConfig config() {
    return config;
  }

  public ModelSignature signature() {
    return loaded.signature();
  }

  public LoadedModel loaded() {
    return loaded;
  }

  public Duration loadTime() {
    return loadTime;
  }

  public Duration warmupTime() {
    return warmupTime;
  }

  public int queueDepth() {
    return batcher.queueDepth();
  }

  /** Whether an instance is left to run this version's requests. */
  public boolean canServe() {
    return batcher.canServe();
  }

  /** Why this version cannot serve, when {@link #canServe()} is false. */
  public String failure() {
    return batcher.failure().orElse("");
  }

  /** This version now serves: its gauges take over from the version it replaces. */
  void activate() {
    metrics.activate();
  }

  boolean tryAcquire() {
    inFlight.incrementAndGet();
    if (retiring) {
      release();
      return false;
    }
    return true;
  }

  void release() {
    if (inFlight.decrementAndGet() == 0 && retiring) {
      drained.complete(null);
    }
  }

  /**
   * Decodes, validates, queues and answers one request; the caller holds an acquisition. A request
   * refused here is counted as this version's failure. Cancelling the returned future takes the
   * request out of the batcher's queue.
   */
  CompletableFuture<InferResult> infer(RequestDecoder decoder) {
    InferRequest valid;
    try {
      valid = RequestValidator.validate(model, loaded.signature(), decoder.decode(model, loaded.signature()));
    } catch (RuntimeException e) {
      InferenceException refused = InferenceException.of(e);
      metrics.failure(refused.kind());
      return CompletableFuture.failedFuture(refused);
    }
    CompletableFuture<List<Tensor>> queued = batcher.submit(valid);
    return Cancellation.propagate(queued.handle((outputs, error) -> {
      if (queued.isCancelled()) {
        throw new CancellationException("cancelled by its caller"); // not a failure of the model
      }
      if (error != null) {
        InferenceException e = InferenceException.of(error);
        metrics.failure(e.kind());
        throw e;
      }
      metrics.success();
      return new InferResult(model, Long.toString(version), select(outputs, valid.requestedOutputs()));
    }), queued);
  }

  private static List<Tensor> select(List<Tensor> outputs, Set<String> requested) {
    if (requested.isEmpty()) {
      return outputs;
    }
    return outputs.stream().filter(t -> requested.contains(t.name())).toList();
  }

  /**
   * Stops taking requests, waits for those in flight and queued, then frees the engine.
   *
   * @return completes when the version is gone
   */
  CompletableFuture<Void> retire() {
    retiring = true;
    if (inFlight.get() == 0) {
      drained.complete(null);
    }
    return drained
        .thenCompose(v -> batcher.shutdown())
        .whenComplete((v, e) -> {
          metrics.retire();
          instances.forEach(LoadedModel.Instance::close);
          loaded.close();
        });
  }
}
