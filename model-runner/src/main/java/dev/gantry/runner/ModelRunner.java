package dev.gantry.runner;

import static java.util.Objects.requireNonNull;

import dev.gantry.runner.engine.ModelLoader;
import dev.gantry.runner.grpc.GrpcConnections;
import dev.gantry.runner.grpc.HealthService;
import dev.gantry.runner.grpc.InferenceService;
import dev.gantry.runner.lifecycle.ModelManager;
import dev.gantry.runner.lifecycle.ServedVersion;
import dev.gantry.runner.metrics.RunnerMetrics;
import dev.gantry.runner.repository.ModelRepository;
import dev.gantry.runner.repository.SourcedModels;
import dev.gantry.runner.source.AliasWatcher;
import dev.gantry.runner.source.MlflowRegistry;
import dev.gantry.runner.source.ModelCache;
import dev.gantry.runner.source.ModelSources;
import dev.gantry.runner.source.ModelUri;
import dev.gantry.runner.source.S3Artifacts;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model-runner process: model manager, gRPC server and metrics server, wired together.
 * {@link #start} returns once the ports are bound and the start-up models are loaded.
 */
public final class ModelRunner implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelRunner.class);
  static final String VERSION = "0.1.0";

  private final Vertx vertx;
  private final ScheduledThreadPoolExecutor timers;
  private final RunnerMetrics metrics;
  private final ModelManager models;
  private final HttpServer grpcServer;
  /** gRPC on a Unix domain socket ({@code --grpc-socket}), when asked for. */
  private final Optional<HttpServer> socketServer;
  private final Optional<java.nio.file.Path> socketPath;
  private final GrpcConnections connections;
  private final HttpServer metricsServer;
  private final Duration shutdownGrace;
  private final Optional<AliasWatcher> watcher;

  private ModelRunner(Vertx vertx, ScheduledThreadPoolExecutor timers, RunnerMetrics metrics, ModelManager models,
      HttpServer grpcServer, Optional<HttpServer> socketServer, Optional<java.nio.file.Path> socketPath,
      GrpcConnections connections, HttpServer metricsServer, Duration shutdownGrace, Optional<AliasWatcher> watcher) {
    this.socketServer = socketServer;
    this.socketPath = socketPath;
    this.watcher = watcher;
    this.vertx = vertx;
    this.timers = timers;
    this.metrics = metrics;
    this.models = models;
    this.grpcServer = grpcServer;
    this.connections = connections;
    this.metricsServer = metricsServer;
    this.shutdownGrace = shutdownGrace;
  }

  /** Starts the runner and loads its start-up models; blocks until done. */
  public static ModelRunner start(RunnerOptions options) {
    return start(options, System.getenv());
  }

  /**
   * Starts the runner and loads its start-up models; blocks until done.
   *
   * @param env the environment MLflow's and AWS's settings are read from ({@code MLFLOW_TRACKING_URI}, …)
   */
  public static ModelRunner start(RunnerOptions options, java.util.Map<String, String> env) {
    requireNonNull(options, "options");
    requireNonNull(env, "env");
    Optional<ModelSources> sources = options.sources().isEmpty() ? Optional.empty()
        : Optional.of(sources(options, env));
    // blocking, before anything listens: a URI that cannot be resolved leaves its model failed, not the runner
    sources.ifPresent(ModelSources::resolveAll);
    ModelRepository repository = new ModelRepository(options.modelRepository(), options.device(),
        sources.<SourcedModels>map(s -> s).orElse(SourcedModels.NONE));
    List<String> toLoad = options.models().isEmpty() ? repository.modelNames() : options.models();
    for (String name : toLoad) {
      if (!repository.contains(name)) {
        throw new IllegalArgumentException("--models names '" + name + "' but " + repository.describe()
            + " has no such model; it has " + repository.modelNames());
      }
    }
    if (options.engineThreads() > 0) {
      // PyTorch's thread pools are per process and fixed when the engine starts. Small models gain
      // nothing from intra-op threads, and idle OpenMP threads spin on cores the batcher, the event
      // loops and the sidecar need; parallelism comes from instance_count and batching instead.
      String threads = Integer.toString(options.engineThreads());
      System.setProperty("ai.djl.pytorch.num_threads", System.getProperty("ai.djl.pytorch.num_threads", threads));
      System.setProperty("ai.djl.pytorch.num_interop_threads",
          System.getProperty("ai.djl.pytorch.num_interop_threads", threads));
    }
    ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = Executors.defaultThreadFactory().newThread(r);
      t.setName("gantry-deadlines");
      t.setDaemon(true);
      return t;
    });
    timers.setRemoveOnCancelPolicy(true);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    RunnerMetrics metrics = new RunnerMetrics(registry);
    ModelManager models = new ModelManager(repository, new ModelLoader(options.engineThreads()), metrics, timers,
        Duration.ofNanos(TimeUnit.MICROSECONDS.toNanos(options.workerSpinMicros())));
    // a Unix domain socket needs the native transport (Vert.x has none on NIO)
    boolean preferNative = options.nativeTransport() || options.grpcSocket().isPresent();
    Vertx vertx = Vertx.vertx(EventLoopTransport.options(preferNative));
    LOG.info("event=event_loop_transport {}", EventLoopTransport.describe(vertx, preferNative));
    try {
      if (options.grpcSocket().isPresent() && !vertx.isNativeTransportEnabled()) {
        throw new IllegalArgumentException("--grpc-socket needs Netty's native epoll transport (Linux x86-64), which"
            + " is not available here: " + EventLoopTransport.describe(vertx, true));
      }
      GrpcConnections connections = new GrpcConnections();
      GrpcServer grpc = GrpcServer.server(vertx, new GrpcServerOptions().setMaxMessageSize(options.maxMessageBytes()));
      Optional<AliasWatcher> watcher = sources.map(s -> new AliasWatcher(s, models::refresh, registry));
      new InferenceService(models, VERSION, watcher).bind(grpc);
      new HealthService(models).bind(vertx, grpc);
      // gRPC over h2c on TCP, and on a Unix domain socket when asked for: the same service and connection tracking
      java.util.function.Function<HttpServerOptions, HttpServer> grpcOn = o -> vertx.createHttpServer(
              o.setHttp2ClearTextEnabled(true))
          .requestHandler(grpc)
          .connectionHandler(connections::track);
      HttpServer grpcHttp = grpcOn.apply(new HttpServerOptions().setHost(options.host()).setPort(options.grpcPort()));
      HttpServer metricsHttp = vertx.createHttpServer(new HttpServerOptions()
              .setHost(options.metricsHost()).setPort(options.metricsPort()))
          .requestHandler(req -> {
            if (req.path().equals("/metrics")) {
              vertx.executeBlocking(registry::scrape, false).onComplete(ar -> {
                if (ar.succeeded()) {
                  req.response().putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8").end(ar.result());
                } else {
                  req.response().setStatusCode(500).end(String.valueOf(ar.cause()));
                }
              });
            } else {
              req.response().setStatusCode(404).end("only /metrics is served here\n");
            }
          });
      Optional<HttpServer> socketHttp = options.grpcSocket().map(path -> grpcOn.apply(new HttpServerOptions()));
      grpcHttp.listen().await();
      if (socketHttp.isPresent()) {
        java.nio.file.Path path = options.grpcSocket().get();
        UnixSocketFile.prepare(path);
        socketHttp.get().listen(io.vertx.core.net.SocketAddress.domainSocketAddress(path.toString())).await();
      }
      metricsHttp.listen().await();
      ModelRunner runner = new ModelRunner(vertx, timers, metrics, models, grpcHttp, socketHttp, options.grpcSocket(),
          connections, metricsHttp, Duration.ofMillis(options.shutdownGraceMs()), watcher);
      runner.loadAtStart(toLoad);
      watcher.ifPresent(AliasWatcher::start);
      return runner;
    } catch (RuntimeException e) {
      models.close();
      vertx.close().await();
      timers.shutdownNow();
      throw e;
    }
  }

  private static ModelSources sources(RunnerOptions options, java.util.Map<String, String> env) {
    return new ModelSources(options.sources(), MlflowRegistry.fromEnvironment(env), Optional.of(new LazyS3(env)),
        new ModelCache(options.modelCache()));
  }

  /**
   * Resolves and downloads the model URIs into the cache, and nothing else (an init container's job, so that the
   * pod's runner starts from a warm cache).
   *
   * @return a line per model that could not be fetched; empty when all were
   */
  public static List<String> fetchOnly(RunnerOptions options, java.util.Map<String, String> env) {
    ModelSources s = sources(options, env);
    s.resolveAll();
    List<String> failed = new ArrayList<>();
    for (String name : s.names()) {
      try {
        LOG.info("event=model_fetched model={} uri={} version={} dir={}", name, s.spec(name).uri().text(),
            s.current(name).version(), s.current(name).dir());
      } catch (RuntimeException e) {
        failed.add(name + ": " + e.getMessage());
      }
    }
    return failed;
  }

  /** The S3 client, made on first use only (an s3:// URI, or a registry version stored in S3), and kept. */
  private static final class LazyS3 implements ModelSources.S3Download {
    private final java.util.Map<String, String> env;
    private S3Artifacts client;

    LazyS3(java.util.Map<String, String> env) {
      this.env = env;
    }

    @Override
    public synchronized void download(ModelUri.S3 uri, java.nio.file.Path into) throws java.io.IOException {
      if (client == null) {
        client = S3Artifacts.fromEnvironment(env);
      }
      client.download(uri, into);
    }
  }

  private void loadAtStart(List<String> names) {
    long t0 = System.nanoTime();
    List<CompletableFuture<List<ServedVersion>>> loads = new ArrayList<>();
    for (String name : names) {
      loads.add(models.load(name));
    }
    List<String> failed = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      try {
        loads.get(i).join();
      } catch (RuntimeException e) {
        failed.add(names.get(i));
      }
    }
    StringBuilder summary = new StringBuilder();
    for (String name : names) {
      for (ServedVersion v : models.served(name)) {
        summary.append(String.format("%n  %-24s v%-3d %-11s %-6s load %5d ms  warm-up %5d ms  max_batch %d%s",
            name, v.version(), v.loaded().engineName(), v.loaded().device(), v.loadTime().toMillis(),
            v.warmupTime().toMillis(), v.signature().maxBatchSize(),
            v.config().dynamicBatching().isPresent() ? " dynamic batching" : ""));
      }
      models.failure(name).ifPresent(reason -> summary.append(String.format("%n  %-24s FAILED: %s", name, reason)));
    }
    LOG.info("event=runner_started grpc={}{} metrics={} models={} failed={} ready={} start_ms={}{}", grpcPort(),
        socketPath.map(p -> " grpc_socket=" + p).orElse(""), metricsPort(), names.size() - failed.size(),
        failed.size(), models.ready(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), summary);
  }

  public int grpcPort() {
    return grpcServer.actualPort();
  }

  public int metricsPort() {
    return metricsServer.actualPort();
  }

  /** The watcher of model URIs that can move, when models come from URIs. */
  public Optional<AliasWatcher> watcher() {
    return watcher;
  }

  public ModelManager models() {
    return models;
  }

  public RunnerMetrics metrics() {
    return metrics;
  }

  /** {@link #shutdown(Duration)} with the configured grace period ({@code --shutdown-grace-ms}). */
  @Override
  public void close() {
    shutdown(shutdownGrace);
  }

  /**
   * Drains and stops, within {@code grace}:
   * <ol>
   *   <li>readiness turns false at once: gRPC health NOT_SERVING (open Watch calls hear it, then
   *       end with UNAVAILABLE), ServerReady and ModelReady false;
   *   <li>every gRPC connection gets an HTTP/2 GOAWAY (last stream 2^31-1, NO_ERROR): clients open
   *       no new streams there, and calls already sent (and the requests they queued) run to
   *       their answers; the server stops listening, so new connections are refused;
   *   <li>when the last call is answered, or when the grace period ends (connections are then
   *       closed and what they still waited for is cancelled), the models are unloaded, waiting
   *       only for what is left of the grace period, and everything is freed.
   * </ol>
   */
  public void shutdown(Duration grace) {
    long deadline = System.nanoTime() + grace.toNanos();
    watcher.ifPresent(AliasWatcher::close);
    models.stopServing();
    LOG.info("event=runner_draining grace_ms={}", grace.toMillis());
    connections.announceShutdown();
    io.vertx.core.Future<Void> socketStopped = socketServer.map(server -> server.shutdown(grace.toMillis(),
        TimeUnit.MILLISECONDS)).orElse(io.vertx.core.Future.succeededFuture());
    boolean grpcStopped = awaitQuietly(grpcServer.shutdown(grace.toMillis(), TimeUnit.MILLISECONDS))
        & awaitQuietly(socketStopped);
    socketPath.ifPresent(UnixSocketFile::remove);
    awaitQuietly(metricsServer.close());
    boolean unloaded = models.close(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    vertx.close().await();
    timers.shutdownNow();
    metrics.close();
    LOG.info("event=runner_drained grpc_stopped={} models_unloaded={} shutdown_ms={}", grpcStopped, unloaded,
        TimeUnit.NANOSECONDS.toMillis(grace.toNanos() - (deadline - System.nanoTime())));
  }

  private static boolean awaitQuietly(io.vertx.core.Future<Void> f) {
    try {
      f.await();
      return true;
    } catch (RuntimeException e) {
      LOG.warn("event=runner_shutdown_step_failed reason=\"{}\"", e.toString());
      return false;
    }
  }
}
