package dev.gantry.sidecar;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.adapter.AdapterContext;
import dev.gantry.sidecar.admin.AdminServer;
import dev.gantry.sidecar.admin.EndpointKind;
import dev.gantry.sidecar.admin.SpecAdmin;
import dev.gantry.sidecar.cluster.SpecTable;
import dev.gantry.sidecar.cluster.StateKind;
import dev.gantry.sidecar.cluster.StateStore;
import dev.gantry.sidecar.routing.EndpointRecord;
import dev.gantry.sidecar.routing.EndpointSpec;
import dev.gantry.sidecar.routing.EndpointTable;
import dev.gantry.sidecar.routing.RouteLayer;
import dev.gantry.sidecar.runner.Upstreams;
import dev.gantry.sidecar.experiment.CountsFlusher;
import dev.gantry.sidecar.experiment.ExperimentCounts;
import dev.gantry.sidecar.experiment.ExperimentKind;
import dev.gantry.sidecar.experiment.ExperimentRecord;
import dev.gantry.sidecar.experiment.ExperimentRoutes;
import dev.gantry.sidecar.experiment.ExperimentSpec;
import dev.gantry.sidecar.experiment.ExperimentTap;
import dev.gantry.sidecar.experiment.Feedback;
import dev.gantry.sidecar.rollout.AliasRollouts;
import dev.gantry.sidecar.rollout.Analyst;
import dev.gantry.sidecar.rollout.PrometheusSource;
import dev.gantry.sidecar.rollout.RolloutCommands;
import dev.gantry.sidecar.rollout.RolloutController;
import dev.gantry.sidecar.rollout.RolloutCounts;
import dev.gantry.sidecar.rollout.RolloutKind;
import dev.gantry.sidecar.rollout.RolloutMetrics;
import dev.gantry.sidecar.rollout.RolloutRecord;
import dev.gantry.sidecar.rollout.RolloutRoutes;
import dev.gantry.sidecar.rollout.RolloutSpec;
import dev.gantry.sidecar.rollout.RolloutTap;
import dev.gantry.sidecar.rollout.SidecarSplit;
import dev.gantry.sidecar.rollout.Webhooks;
import dev.gantry.sidecar.rollout.istio.IstioSplit;
import dev.gantry.sidecar.rollout.istio.KubernetesClients;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.ext.web.client.WebClient;
import java.util.function.Supplier;
import io.vertx.ext.web.client.WebClientOptions;
import dev.gantry.sidecar.shadow.ShadowKind;
import dev.gantry.sidecar.shadow.ShadowMetrics;
import dev.gantry.sidecar.shadow.ShadowMirror;
import dev.gantry.sidecar.shadow.ShadowRecord;
import dev.gantry.sidecar.shadow.ShadowSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import dev.gantry.sidecar.adapter.HttpSupport;
import dev.gantry.sidecar.adapter.ProtocolAdapter;
import dev.gantry.sidecar.adapter.grpc.GrpcFront;
import dev.gantry.sidecar.adapter.kserve.KServeV1Adapter;
import dev.gantry.sidecar.adapter.mlflow.MlflowAdapter;
import dev.gantry.sidecar.adapter.seldon.SeldonAdapter;
import dev.gantry.sidecar.adapter.v2.OpenInferenceRestAdapter;
import dev.gantry.sidecar.core.Documents;
import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.ForwardedHeaders;
import dev.gantry.sidecar.core.SidecarException;
import dev.gantry.sidecar.health.HealthRoutes;
import dev.gantry.sidecar.health.Warmup;
import dev.gantry.sidecar.measure.Measure;
import dev.gantry.sidecar.measure.ProxyMetrics;
import dev.gantry.sidecar.path.RequestPath;
import dev.gantry.sidecar.runner.ModelCatalog;
import dev.gantry.sidecar.runner.RunnerConnection;
import dev.gantry.sidecar.runner.RunnerHealth;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.Future;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.PrometheusScrapingHandler;
import io.vertx.micrometer.VertxPrometheusOptions;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sidecar process, wired: one HTTP server (HTTP/1.1 and h2c) per event loop serving the REST
 * adapters, health, metrics and the gRPC front on one port, all sharing one request path to the
 * runner.
 */
public final class Sidecar implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Sidecar.class);
  public static final String VERSION = "0.1.0";

  /** The REST adapters, in mount order. */
  static final List<ProtocolAdapter> ADAPTERS = List.of(new OpenInferenceRestAdapter(), new MlflowAdapter(),
      new KServeV1Adapter(), new SeldonAdapter());

  private final Vertx vertx;
  private final RunnerConnection runner;
  private final RunnerHealth health;
  private final PrometheusMeterRegistry registry;
  private final RequestPath path;
  private final int port;
  private final List<HttpServer> servers;
  private final Set<HttpConnection> connections;

  private final StateStore store;
  private final Upstreams upstreams;
  private final AdminServer admin;
  private final EndpointTable endpoints;
  private final ShadowMirror mirror;
  private final CountsFlusher flusher;
  private final RolloutController controller;
  private final AliasRollouts aliasRollouts;
  private final Warmup warmup;
  private final IstioSplit istio;
  /** How often rollout leases are renewed and intervals looked at. */
  private static final long ROLLOUT_TICK_MS = 250;
  /** How often the runner's candidate versions are looked at and their rollouts moved on. */
  private static final long ALIAS_ROLLOUT_TICK_MS = 1000;
  /** How often each member copies its experiment counts to cluster state. */
  static final long COUNTS_FLUSH_MS = 1000;

  private Sidecar(Vertx vertx, RunnerConnection runner, RunnerHealth health, PrometheusMeterRegistry registry,
      RequestPath path, int port, List<HttpServer> servers, Set<HttpConnection> connections, StateStore store,
      Upstreams upstreams, AdminServer admin, EndpointTable endpoints, ShadowMirror mirror, CountsFlusher flusher,
      RolloutController controller, AliasRollouts aliasRollouts, Warmup warmup, IstioSplit istio) {
    this.warmup = warmup;
    this.controller = controller;
    this.aliasRollouts = aliasRollouts;
    this.istio = istio;
    this.mirror = mirror;
    this.flusher = flusher;
    this.store = store;
    this.upstreams = upstreams;
    this.admin = admin;
    this.endpoints = endpoints;
    this.vertx = vertx;
    this.runner = runner;
    this.health = health;
    this.registry = registry;
    this.path = path;
    this.port = port;
    this.servers = servers;
    this.connections = connections;
  }

  /** Starts the sidecar; returns once it listens. */
  public static Sidecar start(SidecarConfig config) {
    return start(config, KubernetesClients::inCluster);
  }

  /**
   * Starts the sidecar with the Kubernetes client that Istio rollouts use made by {@code kubernetes} (on first use):
   * the pod's ServiceAccount in production, a mock API server in tests.
   */
  public static Sidecar start(SidecarConfig config, Supplier<KubernetesClient> kubernetes) {
    requireNonNull(kubernetes, "kubernetes");
    requireNonNull(config, "config");
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Vertx vertx = Vertx.builder()
        .with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions()
            .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))
            .setRegistryName("gantry-sidecar-" + java.util.UUID.randomUUID())
            // the only HTTP client is the link to the runner, which the model_* metrics measure
            // already; Vert.x's per-request client meters cost CPU on every call for nothing new
            .addDisabledMetricsCategory(MetricsDomain.HTTP_CLIENT)
            .setEnabled(true))
            // a Unix domain socket to the runner needs Netty's native transport (Vert.x has none on NIO)
            .setPreferNativeTransport(config.runnerSocket().isPresent()))
        .withMetrics(new MicrometerMetricsFactory(registry))
        .build();
    if (config.runnerSocket().isPresent() && !vertx.isNativeTransportEnabled()) {
      Throwable why = vertx.unavailableNativeTransportCause();
      vertx.close().await();
      throw new IllegalArgumentException("--runner-socket needs Netty's native epoll transport (Linux x86-64), which"
          + " is not available here: " + (why == null ? "none for this platform" : why));
    }
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    RunnerConnection runner = new RunnerConnection(vertx, config.runnerSocket()
        .map(io.vertx.core.net.SocketAddress::domainSocketAddress)
        .orElseGet(() -> io.vertx.core.net.SocketAddress.inetSocketAddress(config.runnerPort(), config.runnerHost())),
        64 << 20, config.maxInFlight(), config.runnerKeepaliveMs(), "model-runner");
    ModelCatalog catalog = new ModelCatalog(runner, Math.min(RunnerConnection.CONTROL_TIMEOUT_NANOS,
        TimeUnit.MILLISECONDS.toNanos(config.requestTimeoutMs())));
    RunnerHealth health = new RunnerHealth(vertx, runner, catalog, config.healthIntervalMs());
    io.micrometer.core.instrument.Gauge.builder("gantry.runner.ready", health, h -> h.ready() ? 1 : 0)
        .description("1 while this sidecar's runner answers its health probe and serves its models, else 0")
        .register(registry);
    ProxyMetrics metrics = new ProxyMetrics(registry, name -> health.models().contains(name), health::serves);
    // cluster state is loaded whole before anything is served; after that the request path reads only the snapshot
    StateStore store;
    try {
      store = config.cluster().start();
    } catch (RuntimeException e) {
      vertx.close().await();
      throw new IllegalStateException("the cluster member could not start: " + e.getMessage(), e);
    }
    EndpointTable endpoints = new EndpointTable();
    store.listen(StateKind.ENDPOINTS, endpoints);
    metrics.endpoints(name -> endpoints.snapshot().isEndpoint(name));
    Upstreams upstreams = new Upstreams(vertx, runner, catalog, 64 << 20, config.maxInFlight(),
        config.runnerKeepaliveMs(), Math.min(RunnerConnection.CONTROL_TIMEOUT_NANOS,
            TimeUnit.MILLISECONDS.toNanos(config.requestTimeoutMs())));
    RouteLayer routes = new RouteLayer(endpoints, upstreams);
    SpecTable<ShadowSpec> shadows = new SpecTable<>("shadow", ShadowRecord::specOf);
    store.listen(StateKind.SHADOWS, shadows);
    ExperimentCounts counts = new ExperimentCounts();
    ShadowMirror mirror = new ShadowMirror(shadows, endpoints, routes, new ShadowMetrics(registry), counts);
    SpecTable<ExperimentRecord> experiments = new SpecTable<>("experiment", ExperimentRecord::validOf);
    store.listen(StateKind.EXPERIMENTS, experiments);
    SpecTable<RolloutRecord> rollouts = new SpecTable<>("rollout", RolloutRecord::validOf);
    store.listen(StateKind.ROLLOUTS, rollouts);
    store.listen(StateKind.ROLLOUT_STATUS, new RolloutMetrics(registry));
    RequestPath path = new RequestPath(runner, health, config.maxInFlight(), config.requestTimeoutMs(),
        List.of(mirror, new ExperimentTap(experiments, counts, store), new RolloutTap(rollouts, counts)));
    CountsFlusher flusher = new CountsFlusher(vertx, store, counts);
    ExperimentRoutes experimentRoutes = new ExperimentRoutes(vertx, new Feedback(vertx, store, experiments, counts),
        store, endpoints, flusher);
    SpecAdmin<EndpointSpec, EndpointRecord> endpointAdmin = new SpecAdmin<>(vertx, store, new EndpointKind(routes),
        Clock.systemUTC());
    SpecAdmin<ShadowSpec, ShadowRecord> shadowAdmin = new SpecAdmin<>(vertx, store, new ShadowKind(endpoints),
        Clock.systemUTC());
    SpecAdmin<ExperimentSpec, ExperimentRecord> experimentAdmin = new SpecAdmin<>(vertx, store,
        new ExperimentKind(endpoints), Clock.systemUTC());
    declare(endpointAdmin, config.endpoints());
    declare(shadowAdmin, config.shadows());
    declare(experimentAdmin, config.experiments());
    SpecAdmin<RolloutSpec, RolloutRecord> rolloutAdmin = new SpecAdmin<>(vertx, store,
        new RolloutKind(endpoints, rollouts), Clock.systemUTC());
    declare(rolloutAdmin, config.rollouts());
    WebClient web = WebClient.create(vertx, new WebClientOptions().setUserAgent("gantry-sidecar/" + VERSION));
    RolloutCounts rolloutCounts = new RolloutCounts(store);
    SidecarSplit sidecarSplit = new SidecarSplit(endpoints, endpointAdmin);
    IstioSplit istio = new IstioSplit(vertx, kubernetes);
    RolloutController controller = new RolloutController(vertx, store, rollouts, rolloutCounts,
        new Analyst(new PrometheusSource(web)), new Webhooks(vertx, web), spec -> switch (spec.trafficOrDefault()) {
          case "istio" -> List.of(istio);
          case "both" -> List.of(sidecarSplit, istio);
          default -> List.of(sidecarSplit);
        }, Clock.systemUTC());
    AliasRollouts aliasRollouts = new AliasRollouts(vertx, store, endpoints, rollouts, endpointAdmin, rolloutAdmin,
        runner, health, registry, Clock.systemUTC());
    RolloutRoutes rolloutRoutes = new RolloutRoutes(vertx, store, new RolloutCommands(vertx, store, rolloutCounts,
        controller, Clock.systemUTC()));
    Warmup warmup = new Warmup(vertx, health, runner, name -> endpoints.snapshot().isEndpoint(name),
        config.defaultModel(), config.warmupMs());
    AdapterContext context = new AdapterContext(path, catalog, runner, health, new Measure(metrics, warmup::isWarmup),
        new ForwardedHeaders(config.forwardHeaders()), config.maxBodyBytes(), config.defaultModel(), VERSION, routes);
    int instances = config.eventLoops() > 0 ? config.eventLoops() : Runtime.getRuntime().availableProcessors();
    // Vert.x shares one listening socket between the instances only when they ask for the same port, and an
    // ephemeral port is not known before the first bind: with several instances, port 0 means a free port chosen now
    AtomicInteger boundPort = new AtomicInteger(config.port() == 0 && instances > 1 ? freePort(config.host())
        : config.port());
    List<HttpServer> servers = new CopyOnWriteArrayList<>();
    Set<HttpConnection> connections = ConcurrentHashMap.newKeySet();
    try {
      // the first instance binds (possibly an ephemeral port); the others share that port
      vertx.deployVerticle(new Front(config, context, registry, boundPort, servers, connections,
          experimentRoutes, warmup)).await();
      if (instances > 1) {
        vertx.deployVerticle(() -> new Front(config, context, registry, boundPort, servers, connections,
            experimentRoutes, warmup),
            new DeploymentOptions().setInstances(instances - 1)).await();
      }
    } catch (Exception e) {
      // await() rethrows a bind failure (a checked BindException) as it is: the member must go too, or its
      // threads keep the process alive
      store.close();
      vertx.close().await();
      throw new IllegalStateException("the sidecar could not listen on " + config.host() + ":" + config.port() + ": "
          + e.getMessage(), e);
    }
    AdminServer admin;
    try {
      admin = AdminServer.start(vertx, config.adminHost(), config.adminPort(), config.adminToken(),
          List.of(endpointAdmin, shadowAdmin, experimentAdmin, rolloutAdmin), store, router -> {
            router.get("/admin/v1/shadows/:name/disagreements").handler(rc -> {
              JsonArray items = new JsonArray();
              mirror.disagreements(rc.pathParam("name")).forEach(items::add);
              AdminServer.answer(rc, Future.succeededFuture(new JsonObject().put("endpoint", rc.pathParam("name"))
                  .put("member", store.self()).put("items", items)));
            });
            // the rollouts that endpoints' rollout policies started for watched aliases' new versions, and how
            // each ended
            router.get("/admin/v1/alias-rollouts").handler(rc -> AdminServer.answer(rc, aliasRollouts.all()
                .map(all -> {
                  JsonArray items = new JsonArray();
                  all.values().stream().sorted(java.util.Comparator.comparing(AliasRollouts.AliasRollout::rollout))
                      .forEach(h -> items.add(new JsonObject(Documents.asMap(h))));
                  return new JsonObject().put("items", items);
                })));
            experimentRoutes.mountResults(router);
            rolloutRoutes.mount(router);
          });
    } catch (Exception e) {
      store.close();
      vertx.close().await();
      throw new IllegalStateException("the admin API could not listen on " + config.adminHost() + ":"
          + config.adminPort() + ": " + e.getMessage(), e);
    }
    health.start();
    warmup.start(boundPort.get());
    flusher.start(COUNTS_FLUSH_MS);
    controller.start(ROLLOUT_TICK_MS);
    aliasRollouts.start(ALIAS_ROLLOUT_TICK_MS);
    LOG.info("event=sidecar_started port={} admin_port={} runner={} default_model={} event_loops={} max_in_flight={}"
        + " request_timeout_ms={} max_body_bytes={} cluster={} endpoints={}", boundPort.get(), admin.port(),
        runner.address(), config.defaultModel().orElse("-"), instances, config.maxInFlight(),
        config.requestTimeoutMs(), config.maxBodyBytes(), store.members(), endpoints.snapshot().endpoints().keySet());
    return new Sidecar(vertx, runner, health, registry, path, boundPort.get(), servers, connections, store, upstreams,
        admin, endpoints, mirror, flusher, controller, aliasRollouts, warmup, istio);
  }

  /** One HTTP server on one event loop. */
  private static final class Front extends AbstractVerticle {
    private final SidecarConfig config;
    private final AdapterContext context;
    private final PrometheusMeterRegistry registry;
    private final AtomicInteger port;
    private final List<HttpServer> servers;
    private final Set<HttpConnection> connections;
    private final ExperimentRoutes experiments;
    private final Warmup warmup;

    Front(SidecarConfig config, AdapterContext context, PrometheusMeterRegistry registry, AtomicInteger port,
        List<HttpServer> servers, Set<HttpConnection> connections, ExperimentRoutes experiments, Warmup warmup) {
      this.warmup = warmup;
      this.experiments = experiments;
      this.config = config;
      this.context = context;
      this.registry = registry;
      this.port = port;
      this.servers = servers;
      this.connections = connections;
    }

    @Override
    public void start(io.vertx.core.Promise<Void> started) {
      Router router = Router.router(vertx);
      router.route().handler(HttpSupport::assignRequestId);
      // prediction routes bring their own body handler, after the measuring layer (AdapterContext.predict)
      for (ProtocolAdapter adapter : ADAPTERS) {
        adapter.mount(router, context);
      }
      HealthRoutes.mount(router, context.health(), warmup::warm);
      experiments.mountFeedback(router);
      router.get("/metrics").handler(PrometheusScrapingHandler.create(registry));
      router.route().last().handler(rc -> HttpSupport.fail(rc, new SidecarException(ErrorKind.NOT_FOUND,
          "no such endpoint: " + rc.request().method() + " " + rc.request().path()), HttpSupport::errorBody));
      router.route().failureHandler(HttpSupport.failureHandler(HttpSupport::errorBody));

      GrpcServer grpc = GrpcServer.server(vertx, new GrpcServerOptions().setMaxMessageSize(config.maxBodyBytes()));
      GrpcFront grpcFront = new GrpcFront(context, grpc);

      HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost(config.host())
          .setPort(port.get()).setHttp2ClearTextEnabled(true).setMaxFormAttributeSize(config.maxBodyBytes()));
      server.connectionHandler(c -> {
        connections.add(c);
        c.closeHandler(v -> connections.remove(c));
      });
      server.requestHandler(req -> {
        if (context.health().draining() && req.version() != io.vertx.core.http.HttpVersion.HTTP_2) {
          // shutting down: an HTTP/1.1 connection is closed after this answer, so that its client reconnects
          // elsewhere instead of finding it closed under a request it has just sent
          req.response().putHeader(io.vertx.core.http.HttpHeaders.CONNECTION, "close");
        }
        String type = req.getHeader("content-type");
        if (type != null && type.startsWith("application/grpc")) {
          grpcFront.handle(req);
        } else {
          router.handle(req);
        }
      });
      server.listen().onSuccess(s -> {
        servers.add(s);
        port.set(s.actualPort());
        started.complete();
      }).onFailure(started::fail);
    }
  }

  public int port() {
    return port;
  }

  private static int freePort(String host) {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName(host))) {
      return s.getLocalPort();
    } catch (java.io.IOException e) {
      throw new IllegalStateException("no free port on " + host + ": " + e.getMessage(), e);
    }
  }

  /** The admin API's port. */
  public int adminPort() {
    return admin.port();
  }

  /** The address the admin API listens on. */
  public String adminHost() {
    return admin.host();
  }

  /** This sidecar's snapshot of the endpoints in cluster state. */
  public EndpointTable endpoints() {
    return endpoints;
  }

  /** The mirror layer: its shadows' copies in flight and their last disagreements. */
  public ShadowMirror mirror() {
    return mirror;
  }

  /** Objects declared in the configuration file, written where cluster state has none of their name. */
  private static <S> void declare(SpecAdmin<S, ?> admin, List<S> declared) {
    for (S spec : declared) {
      if (!admin.declare(spec)) {
        LOG.info("event={}_declared_kept name={} reason=\"cluster state has it already\"", admin.kind().noun(),
            admin.kind().name(spec));
      }
    }
  }

  /** Cluster state as this sidecar's member sees it. */
  public StateStore store() {
    return store;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public RunnerHealth health() {
    return health;
  }

  public RequestPath path() {
    return path;
  }

  /** Longest time HTTP/1.1 connections are closed by their answers before the servers stop (a quarter of the grace). */
  static final long MAX_CLOSE_DELAY_MS = 3000;

  /**
   * Drains for shutdown: readiness turns false at once and HTTP/2 clients hear GOAWAY; for a quarter of the grace
   * (at most {@value #MAX_CLOSE_DELAY_MS} ms) requests are still served and HTTP/1.1 answers carry
   * {@code Connection: close}; then the servers stop taking connections and requests in flight finish until
   * {@code graceMs} has passed. Returns when they have, or the grace is over.
   */
  public void drain(long graceMs) {
    health.drain();
    LOG.info("event=sidecar_draining in_flight={} grace_ms={}", path.inFlight(), graceMs);
    // HTTP/2 first hears GOAWAY with the last stream id 2^31-1 (RFC 9113 6.8): no new streams, every
    // stream already sent still served. HttpServer.shutdown's own GOAWAY names the last stream seen, and a
    // Vert.x 5.0.7 client that races one more stream onto the connection then drops all its streams there.
    for (HttpConnection c : connections) {
      try {
        c.goAway(0, Integer.MAX_VALUE);
      } catch (RuntimeException e) {
        // an HTTP/1.1 connection: it is closed after its current response instead
      }
    }
    long start = System.nanoTime();
    // HTTP/1.1 has no GOAWAY: for a while every answer says Connection: close and the server keeps serving, so that
    // busy keep-alive connections are closed by their answers, each between requests, before the server stops and
    // closes the ones still open (only those idle all along could meet a request on its way)
    long closeDelay = Math.min(MAX_CLOSE_DELAY_MS, graceMs / 4);
    java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(closeDelay));
    long left = Math.max(0, graceMs - closeDelay);
    try {
      Future.all(servers.stream().map(s -> s.shutdown(left, TimeUnit.MILLISECONDS)).toList())
          .await(left + 1000, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.warn("event=sidecar_drain_incomplete reason=\"{}\"", e.getMessage());
    }
    LOG.info("event=sidecar_drained in_flight={} took_ms={}", path.inFlight(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
  }

  /** Stops listening and frees everything. */
  @Override
  public void close() {
    health.stop();
    controller.stop();
    aliasRollouts.stop();
    warmup.stop();
    istio.close();
    flusher.stop();
    admin.close().await();
    upstreams.close().otherwiseEmpty().await();
    runner.close().await();
    store.close();
    vertx.close().await();
  }

}
