package dev.gantry.sidecar.runner;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelMetadataRequest;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.proto.inference.ModelReadyRequest;
import dev.gantry.proto.inference.ModelRepositoryParameter;
import dev.gantry.proto.inference.RepositoryIndexRequest;
import dev.gantry.proto.inference.RepositoryModelLoadRequest;
import dev.gantry.proto.inference.ServerReadyRequest;
import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.SidecarException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.impl.GrpcClientImpl;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.common.ServiceMethod;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sidecar's link to its model-runner: Open Inference v2 over gRPC on multiplexed HTTP/2
 * loopback connections.
 *
 * <ul>
 *   <li>Every call has a client-side deadline, enforced here whether the call is waiting for a
 *       stream, sent, or waiting for its answer: when it passes, the call fails with
 *       DEADLINE_EXCEEDED and its stream is cancelled, so the runner does not compute an answer
 *       nobody waits for. The runner is sent only the time that is left.
 *   <li>Connections and streams are sized to the sidecar's in-flight limit, and the pool's wait
 *       queue is bounded by it.
 *   <li>Each event loop has its own connections: a call is sent and answered on the thread that made it.
 *   <li>Each connection is pinged (HTTP/2 PING) from its own event loop; one that answers neither the PING nor
 *       any call in time is closed and reported as a dead peer.
 *   <li>Failures come back as {@link SidecarException}s: the runner's own status for its answers;
 *       UNAVAILABLE "unreachable" only when no connection can be made; UNAVAILABLE naming the
 *       cause, for that call alone, when a stream breaks after it was sent.
 * </ul>
 */
public final class RunnerConnection {
  private static final Logger LOG = LoggerFactory.getLogger(RunnerConnection.class);
  /** Concurrent streams used per connection: Vert.x servers' default SETTINGS_MAX_CONCURRENT_STREAMS. */
  static final int STREAMS_PER_CONNECTION = 100;
  /** Deadline of calls that are not inference: metadata, readiness, the repository index. */
  public static final long CONTROL_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);
  private static final String UNREACHABLE = "is unreachable";

  private final Vertx vertx;
  private final java.util.function.Supplier<GrpcClient> newClient;
  /** Calls made off any event loop (start-up, workers). */
  private final GrpcClient client;
  /**
   * One client per event loop, its connections made on that loop: a call made on an event loop is sent, answered
   * and handed back without leaving its thread (a connection shared by all loops costs two thread hand-offs a call).
   */
  private final Map<Thread, GrpcClient> loopClients = new ConcurrentHashMap<>();
  private volatile boolean closed;
  private final SocketAddress address;
  private final long keepaliveMs;
  /** The open connections to the runner, each with what its keep-alive needs. */
  private final Map<HttpConnection, Link> connections = new ConcurrentHashMap<>();
  private final long keepaliveTimer;
  private final String role;
  private volatile Consumer<String> deadPeerListener = why -> { };

  /**
   * @param maxInFlight the sidecar's in-flight limit: connections and the pool's wait queue are sized to it
   * @param keepaliveMs PING period, and how long a PING may go unanswered
   */
  public RunnerConnection(Vertx vertx, String host, int port, int maxMessageBytes, int maxInFlight,
      long keepaliveMs) {
    this(vertx, host, port, maxMessageBytes, maxInFlight, keepaliveMs, "model-runner");
  }

  /**
   * @param role what the peer is called in error messages: {@code model-runner}, or {@code upstream} for a remote
   *     one
   */
  public RunnerConnection(Vertx vertx, String host, int port, int maxMessageBytes, int maxInFlight,
      long keepaliveMs, String role) {
    this(vertx, SocketAddress.inetSocketAddress(port, requireNonNull(host, "host")), maxMessageBytes, maxInFlight,
        keepaliveMs, role);
  }

  /**
   * @param address the peer's TCP address, or its Unix domain socket ({@link SocketAddress#domainSocketAddress}:
   *     the Vert.x instance must run on the native transport)
   */
  public RunnerConnection(Vertx vertx, SocketAddress address, int maxMessageBytes, int maxInFlight,
      long keepaliveMs, String role) {
    this.role = requireNonNull(role, "role");
    this.vertx = requireNonNull(vertx, "vertx");
    this.address = requireNonNull(address, "address");
    this.keepaliveMs = keepaliveMs;
    int maxConnections = Math.max(1, (maxInFlight + STREAMS_PER_CONNECTION - 1) / STREAMS_PER_CONNECTION);
    this.newClient = () -> {
      HttpClient http = vertx.httpClientBuilder()
          .with(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false)
              .setConnectTimeout(2000).setHttp2MultiplexingLimit(STREAMS_PER_CONNECTION))
          // eventLoopSize 0: a connection is made on the event loop of the call that needs it
          .with(new PoolOptions().setHttp2MaxSize(maxConnections).setMaxWaitQueueSize(maxInFlight)
              .setEventLoopSize(0))
          .withConnectHandler(this::opened)
          .build();
      // GrpcClient.client(vertx, HttpClient) takes no GrpcClientOptions (the message size limit), and the
      // builder takes no PoolOptions: this constructor is the one that takes both.
      return new GrpcClientImpl(vertx, new GrpcClientOptions().setMaxMessageSize(maxMessageBytes), http, true) {
      };
    };
    this.client = newClient.get();
    this.keepaliveTimer = vertx.setPeriodic(keepaliveMs, id -> pingAll());
  }

  public String address() {
    return address.isDomainSocket() ? "unix:" + address.path() : address.host() + ":" + address.port();
  }

  /** Called (on an event loop) when a connection to the runner stops answering PINGs. */
  public void onDeadPeer(Consumer<String> listener) {
    this.deadPeerListener = requireNonNull(listener, "listener");
  }

  /**
   * ModelInfer with a deadline {@code timeoutNanos} from now; cancelled (and failed with CANCELLED)
   * when {@code abandoned} completes first ({@code null}: a call no caller can abandon).
   */
  public Future<ModelInferResponse> infer(ModelInferRequest request, long timeoutNanos, Map<String, String> metadata,
      Future<Void> abandoned) {
    return call(GRPCInferenceServiceGrpcClient.ModelInfer, request, timeoutNanos, metadata, abandoned);
  }

  /** ModelInfer with the message passed through as it came: serialized ModelInferRequest in, ModelInferResponse out. */
  private static final ServiceMethod<Buffer, Buffer> MODEL_INFER_RAW = ServiceMethod.client(
      ServiceName.create("inference", "GRPCInferenceService"), "ModelInfer", GrpcMessageEncoder.IDENTITY,
      GrpcMessageDecoder.IDENTITY);

  /**
   * {@link #infer} on a serialized ModelInferRequest, answered with the serialized ModelInferResponse: nothing is
   * decoded or encoded again on the way.
   */
  public Future<Buffer> inferRaw(Buffer request, long timeoutNanos, Map<String, String> metadata,
      Future<Void> abandoned) {
    return call(MODEL_INFER_RAW, request, timeoutNanos, metadata, abandoned);
  }

  public Future<ModelMetadataResponse> metadata(String model, String version, long timeoutNanos) {
    return call(GRPCInferenceServiceGrpcClient.ModelMetadata,
        ModelMetadataRequest.newBuilder().setName(model).setVersion(version).build(), timeoutNanos, Map.of(), null);
  }

  public Future<Boolean> serverReady(long timeoutMs) {
    return call(GRPCInferenceServiceGrpcClient.ServerReady, ServerReadyRequest.getDefaultInstance(),
        TimeUnit.MILLISECONDS.toNanos(timeoutMs), Map.of(), null).map(r -> r.getReady());
  }

  /** The versions the runner serves now, by model name. */
  public Future<Map<String, Set<String>>> servedVersions() {
    return call(GRPCInferenceServiceGrpcClient.RepositoryIndex, RepositoryIndexRequest.newBuilder().setReady(true)
        .build(), CONTROL_TIMEOUT_NANOS, Map.of(), null)
        .map(r -> r.getModelsList().stream().filter(m -> !m.getVersion().isEmpty()).collect(Collectors.groupingBy(
            m -> m.getName(), Collectors.mapping(m -> m.getVersion(), Collectors.toCollection(TreeSet::new)))))
        .map(Map::copyOf);
  }

  /**
   * Promotes ({@code promote_version}) or rejects ({@code reject_version}) a model's candidate version, through
   * RepositoryModelLoad's parameters; the runner answers when the change serves (a minute at most: a promotion drains
   * the old version).
   */
  public Future<Void> decide(String model, String key, long version, String reason) {
    return load(model, Map.of(key, ModelRepositoryParameter.newBuilder().setInt64Param(version).build(),
        "reason", ModelRepositoryParameter.newBuilder().setStringParam(reason).build()), TimeUnit.MINUTES.toNanos(1));
  }

  /**
   * Makes a model watched with {@code on_new_version: rollout} serve a given registry version instead of its own
   * ({@code serve_version}); with {@code refuseCurrent}, the version it served until then is not loaded again.
   */
  public Future<Void> pin(String model, long version, boolean refuseCurrent, String reason) {
    return load(model, Map.of("serve_version", ModelRepositoryParameter.newBuilder().setInt64Param(version).build(),
        "refuse_current", ModelRepositoryParameter.newBuilder().setBoolParam(refuseCurrent).build(),
        "reason", ModelRepositoryParameter.newBuilder().setStringParam(reason).build()), TimeUnit.MINUTES.toNanos(2));
  }

  /** RepositoryModelLoad with parameters. */
  private Future<Void> load(String model, Map<String, ModelRepositoryParameter> parameters, long timeoutNanos) {
    return call(GRPCInferenceServiceGrpcClient.RepositoryModelLoad, RepositoryModelLoadRequest.newBuilder()
        .setModelName(model).putAllParameters(parameters).build(), timeoutNanos, Map.of(), null).mapEmpty();
  }

  public Future<Boolean> modelReady(String model, String version) {
    return call(GRPCInferenceServiceGrpcClient.ModelReady,
        ModelReadyRequest.newBuilder().setName(model).setVersion(version).build(), CONTROL_TIMEOUT_NANOS, Map.of(),
        null)
        .map(r -> r.getReady());
  }

  private <Req, Resp> Future<Resp> call(ServiceMethod<Resp, Req> method, Req message, long timeoutNanos,
      Map<String, String> metadata, Future<Void> abandoned) {
    long deadline = System.nanoTime() + timeoutNanos;
    Promise<Resp> result = Promise.promise();
    AtomicReference<GrpcClientRequest<Req, Resp>> stream = new AtomicReference<>();
    java.util.concurrent.atomic.AtomicBoolean expired = new java.util.concurrent.atomic.AtomicBoolean();
    long timer = vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos)), id -> {
      if (!result.future().isComplete()) {
        // cancel first: failing the promise runs the caller's continuations, which answer the client; the
        // cancellation's own failure, if it comes back first, is reported as the deadline it is
        expired.set(true);
        cancel(stream.get());
        result.tryFail(deadlinePassed(timeoutNanos));
      }
    });
    if (abandoned != null) {
      abandoned.onComplete(v -> {
        if (!result.future().isComplete()) {
          vertx.cancelTimer(timer);
          GrpcClientRequest<Req, Resp> sent = stream.get();
          // on the next turn of the loop: with the caller's stream and the runner's on one event loop, a cancel
          // made while the caller's reset is still being handled did not reach the runner (RunnerLinkTest)
          vertx.runOnContext(x -> cancel(sent));
          result.tryFail(new SidecarException(ErrorKind.CANCELLED, "the caller went away"));
        }
      });
    }
    client().request(address, method).onComplete(opened -> {
      if (opened.failed()) {
        vertx.cancelTimer(timer);
        result.tryFail(notOpened(opened.cause()));
        return;
      }
      GrpcClientRequest<Req, Resp> req = opened.result();
      long left = deadline - System.nanoTime();
      if (result.future().isComplete() || left <= 0) {
        cancel(req);
        result.tryFail(deadlinePassed(timeoutNanos));
        return;
      }
      stream.set(req);
      metadata.forEach((k, v) -> req.headers().set(k, v));
      req.timeout(left, TimeUnit.NANOSECONDS);
      req.end(message).compose(v -> req.response())
          .compose(resp -> {
            heard(req.connection());
            return resp.last().transform(ar -> {
              GrpcStatus status = resp.status();
              if (ar.succeeded() && (status == null || status == GrpcStatus.OK)) {
                return Future.succeededFuture(ar.result());
              }
              if (status == null || status == GrpcStatus.OK) {
                return Future.<Resp>failedFuture(broken(ar.cause()));
              }
              return Future.<Resp>failedFuture(new SidecarException(ErrorKind.fromGrpcCode(status.code),
                  resp.statusMessage() == null || resp.statusMessage().isEmpty()
                      ? role + " answered " + status : resp.statusMessage()));
            });
          })
          .onComplete(ar -> {
            vertx.cancelTimer(timer);
            if (ar.succeeded()) {
              result.tryComplete(ar.result());
            } else if (expired.get()) {
              result.tryFail(deadlinePassed(timeoutNanos));
            } else {
              result.tryFail(ar.cause() instanceof SidecarException ? ar.cause() : broken(ar.cause()));
            }
          });
    });
    return result.future();
  }

  private static void cancel(GrpcClientRequest<?, ?> stream) {
    if (stream == null) {
      return;
    }
    try {
      stream.cancel();
    } catch (RuntimeException e) {
      // the stream already ended; nothing to cancel
    }
  }

  private SidecarException deadlinePassed(long timeoutNanos) {
    return new SidecarException(ErrorKind.DEADLINE_EXCEEDED, role + " at " + address() + " did not answer within "
        + formatNanos(timeoutNanos));
  }

  /** A duration for messages: "400 ms", or "0.500 ms" below a millisecond. */
  public static String formatNanos(long nanos) {
    return nanos % 1_000_000 == 0 ? nanos / 1_000_000 + " ms" : String.format(java.util.Locale.ROOT, "%.3f ms",
        nanos / 1e6);
  }

  /** No stream could be had: the runner cannot be reached, or the pool's wait queue is full. */
  private SidecarException notOpened(Throwable cause) {
    if (cause instanceof ConnectionPoolTooBusyException) {
      return new SidecarException(ErrorKind.RESOURCE_EXHAUSTED, "too many calls waiting for the model-runner; retry"
          + " later");
    }
    return new SidecarException(ErrorKind.UNAVAILABLE, role + " at " + address() + " " + UNREACHABLE + ": "
        + why(cause));
  }

  /** A stream that was sent broke without a gRPC status: this call fails, nothing else does. */
  private SidecarException broken(Throwable cause) {
    return new SidecarException(ErrorKind.UNAVAILABLE, role + " at " + address() + " ended the call without an"
        + " answer: " + why(cause));
  }

  private static String why(Throwable cause) {
    return cause == null ? "no answer" : cause.getMessage() == null ? cause.getClass().getSimpleName()
        : cause.getMessage();
  }

  /** Whether a failure means no connection to the runner could be made (not one request's trouble). */
  public static boolean isUnreachable(Throwable t) {
    return t instanceof SidecarException e && e.kind() == ErrorKind.UNAVAILABLE && e.getMessage().contains(UNREACHABLE);
  }

  /** A connection to the runner and when it last answered a call. */
  private static final class Link {
    final HttpConnection connection;
    /** The context the connection was made on: its PINGs are sent from there. */
    final io.vertx.core.Context context;
    volatile long lastAnswerNanos = System.nanoTime();

    Link(HttpConnection connection, io.vertx.core.Context context) {
      this.connection = connection;
      this.context = context;
    }
  }

  private void opened(HttpConnection connection) {
    connections.put(connection, new Link(connection, Vertx.currentContext()));
    connection.closeHandler(v -> connections.remove(connection));
  }

  /** The runner answered a call on this connection. */
  private void heard(HttpConnection connection) {
    Link link = connection == null ? null : connections.get(connection);
    if (link != null) {
      link.lastAnswerNanos = System.nanoTime();
    }
  }

  private void pingAll() {
    for (Link link : connections.values()) {
      if (link.context == null) {
        ping(link);
      } else {
        link.context.runOnContext(v -> ping(link));
      }
    }
  }

  /**
   * PINGs a connection from its own context. One that neither answers the PING nor any call in {@code keepaliveMs}
   * is closed and its runner reported dead; a PING left unanswered on a connection that still answers calls is
   * logged, and the connection kept: the runner is alive, and closing it would fail every call in flight on it.
   */
  private void ping(Link link) {
    HttpConnection c = link.connection;
    long sent = System.nanoTime();
    long timeout = vertx.setTimer(keepaliveMs, id -> {
      if (link.lastAnswerNanos - sent > 0) {
        LOG.info("event=runner_ping_unanswered runner={} reason=\"no answer to an HTTP/2 PING within {} ms, but calls"
            + " on the connection were answered since: kept\"", address(), keepaliveMs);
        return;
      }
      if (connections.remove(c) != null) {
        String why = "no answer to an HTTP/2 PING within " + keepaliveMs + " ms";
        LOG.warn("event=runner_connection_dead runner={} reason=\"{}\"", address(), why);
        c.close();
        deadPeerListener.accept(role + " at " + address() + " " + UNREACHABLE + ": " + why);
      }
    });
    c.ping(Buffer.buffer("gantryka")).onComplete(ar -> {
      vertx.cancelTimer(timeout);
      if (ar.failed()) {
        // closed: the pool has let go of it too
        connections.remove(c);
      }
    });
  }

  /** This event loop's client, or the shared one off the event loops. */
  private GrpcClient client() {
    io.vertx.core.Context context = Vertx.currentContext();
    if (context == null || !context.isEventLoopContext() || closed) {
      return client;
    }
    // a plain read on every call; the map is written once per event loop
    GrpcClient mine = loopClients.get(Thread.currentThread());
    return mine != null ? mine : loopClients.computeIfAbsent(Thread.currentThread(), t -> newClient.get());
  }

  public Future<Void> close() {
    closed = true;
    vertx.cancelTimer(keepaliveTimer);
    java.util.List<Future<Void>> closing = new java.util.ArrayList<>();
    closing.add(client.close());
    loopClients.values().forEach(c -> closing.add(c.close()));
    return Future.join(closing).mapEmpty();
  }
}
