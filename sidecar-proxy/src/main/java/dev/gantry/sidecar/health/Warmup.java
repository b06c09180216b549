package dev.gantry.sidecar.health;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.sidecar.runner.RunnerConnection;
import dev.gantry.sidecar.runner.RunnerHealth;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warm-up traffic through the sidecar's own port before {@code /readyz} turns true: a JVM just started runs the
 * request path interpreted and compiles it under load, serving a tenth of its steady throughput for tens of seconds
 * (see {@code perf/RESULTS.md}); a pod added by the autoscaler would take traffic exactly then. So each time the
 * runner becomes ready (at start, and after it comes back), the sidecar sends itself requests for every model the
 * runner serves (v2 REST, MLflow {@code /invocations} for the default model, gRPC), with inputs of the shape and type
 * the model's metadata gives, closed loop with {@value #IN_FLIGHT} in flight, in rounds of one second, until for
 * {@value #FLAT_ROUNDS} rounds in a row no round is faster than the best one and the JIT compilers spend under
 * {@value #QUIET_COMPILE_SHARE} of the round compiling, or the budget is spent. The requests go through the runner
 * too, which warms it as well.
 *
 * <p>Warm-up requests carry a per-process secret in {@value #HEADER}: they are not counted in the metrics
 * ({@link #isWarmup}), and they call only model names that are no endpoint's, so no experiment, shadow or rollout
 * sees them. A client's request during the warm-up is served and counted as always.
 */
public final class Warmup {
  /** The header that marks the sidecar's own warm-up requests. */
  public static final String HEADER = "x-gantry-warmup";
  static final int IN_FLIGHT = 16;
  static final int FLAT_ROUNDS = 3;
  static final long ROUND_MS = 1000;
  /** Share of a round the JIT may spend compiling for that round to count as quiet. */
  static final double QUIET_COMPILE_SHARE = 0.05;
  private static final Logger LOG = LoggerFactory.getLogger(Warmup.class);

  private final Vertx vertx;
  private final RunnerHealth health;
  private final RunnerConnection runner;
  private final Predicate<String> isEndpoint;
  private final Optional<String> defaultModel;
  private final long budgetMs;
  private final String token = UUID.randomUUID().toString();
  private volatile boolean warm;
  private volatile boolean running;
  private boolean wasReady;
  private HttpClient rest;
  private HttpClient grpc;
  private long timer = -1;

  /**
   * @param isEndpoint whether a name is an endpoint's (those are not warmed: their requests would be counted by
   *     experiments and rollouts)
   * @param budgetMs the longest a warm-up lasts; 0: none, ready as soon as the runner is
   */
  public Warmup(Vertx vertx, RunnerHealth health, RunnerConnection runner, Predicate<String> isEndpoint,
      Optional<String> defaultModel, long budgetMs) {
    this.vertx = requireNonNull(vertx, "vertx");
    this.health = requireNonNull(health, "health");
    this.runner = requireNonNull(runner, "runner");
    this.isEndpoint = requireNonNull(isEndpoint, "isEndpoint");
    this.defaultModel = requireNonNull(defaultModel, "defaultModel");
    this.budgetMs = budgetMs;
    this.warm = budgetMs <= 0;
  }

  /** Whether a request is one of this sidecar's warm-up requests. */
  public boolean isWarmup(HttpServerRequest request) {
    String value = request.getHeader(HEADER);
    return value != null && value.equals(token);
  }

  /** Whether the sidecar has warmed up since the runner last became ready (always, with no budget). */
  public boolean warm() {
    return warm;
  }

  /** Watches the runner's readiness, warming up through {@code port} each time it turns ready. */
  public void start(int port) {
    if (budgetMs <= 0) {
      return;
    }
    rest = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)
        .setKeepAlive(true), new PoolOptions().setHttp1MaxSize(IN_FLIGHT));
    grpc = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false), new PoolOptions().setHttp2MaxSize(1));
    timer = vertx.setPeriodic(100, id -> watch());
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  private void watch() {
    boolean ready = health.ready();
    if (ready && !wasReady && !running) {
      warm = false;
      running = true;
      warmUp().onComplete(ar -> {
        if (ar.failed()) {
          LOG.warn("event=warmup_failed reason=\"{}\" action=ready_without_warmup", ar.cause().getMessage());
        }
        warm = true;
        running = false;
      });
    }
    wasReady = ready;
  }

  /** One call the warm-up makes over and over. */
  private record Call(boolean grpc, String path, Buffer body) {}

  private Future<Void> warmUp() {
    long started = System.nanoTime();
    // the models as the health probe that found the runner ready saw them
    List<Future<List<Call>>> asked = new ArrayList<>();
    for (String model : health.models()) {
      if (!isEndpoint.test(model)) {
        asked.add(runner.metadata(model, "", RunnerConnection.CONTROL_TIMEOUT_NANOS).map(this::calls)
            .recover(e -> Future.succeededFuture(List.of())));
      }
    }
    return Future.all(asked).map(all -> {
      List<Call> out = new ArrayList<>();
      for (int i = 0; i < all.size(); i++) {
        List<Call> c = all.resultAt(i);
        out.addAll(c);
      }
      return out;
    }).compose(calls -> {
      if (calls.isEmpty()) {
        return Future.succeededFuture();
      }
      Promise<Void> done = Promise.promise();
      new Rounds(calls, started, done).next();
      return done.future();
    });
  }

  /** The calls that warm a model: v2 REST and gRPC, and MLflow {@code /invocations} for the default model. */
  private List<Call> calls(ModelMetadataResponse meta) {
    JsonArray inputs = new JsonArray();
    ModelInferRequest.Builder grpcRequest = ModelInferRequest.newBuilder().setModelName(meta.getName());
    JsonArray onlyData = null;
    for (ModelMetadataResponse.TensorMetadata t : meta.getInputsList()) {
      List<Long> shape = new ArrayList<>();
      long n = 1;
      for (long d : t.getShapeList()) {
        long dim = d < 0 ? 1 : d;
        shape.add(dim);
        n *= dim;
      }
      if (n > 65_536) {
        return List.of();
      }
      JsonArray data = new JsonArray();
      boolean bytes = t.getDatatype().equals("BYTES");
      boolean bool = t.getDatatype().equals("BOOL");
      for (long i = 0; i < n; i++) {
        data.add(bytes ? "" : bool ? (Object) false : (Object) 0);
      }
      inputs.add(new JsonObject().put("name", t.getName()).put("datatype", t.getDatatype())
          .put("shape", new JsonArray(new ArrayList<>(shape))).put("data", data));
      grpcRequest.addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName(t.getName())
          .setDatatype(t.getDatatype()).addAllShape(shape));
      grpcRequest.addRawInputContents(com.google.protobuf.ByteString.copyFrom(
          new byte[(int) (n * width(t.getDatatype()))]));
      onlyData = meta.getInputsCount() == 1 ? data : null;
    }
    List<Call> calls = new ArrayList<>();
    String name = meta.getName();
    calls.add(new Call(false, "/v2/models/" + name + "/infer", Buffer.buffer(new JsonObject().put("inputs", inputs)
        .encode())));
    byte[] message = grpcRequest.build().toByteArray();
    calls.add(new Call(true, "/inference.GRPCInferenceService/ModelInfer", Buffer.buffer(5 + message.length)
        .appendByte((byte) 0).appendInt(message.length).appendBytes(message)));
    if (defaultModel.isPresent() && defaultModel.get().equals(name) && onlyData != null) {
      calls.add(new Call(false, "/invocations", Buffer.buffer(new JsonObject().put("inputs", onlyData).encode())));
    }
    return calls;
  }

  /** Milliseconds this JVM's JIT compilers have spent so far (0 where the JVM does not say). */
  static long compileMillis() {
    java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
    return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
  }

  /** Bytes per element of a datatype in {@code raw_input_contents} (BYTES: an empty string's length prefix). */
  static int width(String datatype) {
    return switch (datatype) {
      case "BOOL", "INT8", "UINT8" -> 1;
      case "INT16", "UINT16", "FP16", "BF16" -> 2;
      case "INT64", "UINT64", "FP64" -> 8;
      default -> 4;
    };
  }

  /** Rounds of closed-loop load until the rate stops rising or the budget is spent. */
  private final class Rounds {
    private final List<Call> calls;
    private final long started;
    private final Promise<Void> done;
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong next = new AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    private double best;
    private int flat;
    private long compiledBefore = compileMillis();
    private volatile int rounds;
    private volatile boolean stopping;

    Rounds(List<Call> calls, long started, Promise<Void> done) {
      this.calls = calls;
      this.started = started;
      this.done = done;
    }

    void next() {
      for (int i = 0; i < IN_FLIGHT; i++) {
        send();
      }
      vertx.setTimer(ROUND_MS, id -> round());
    }

    private void round() {
      double rate = completed.getAndSet(0) * 1000.0 / ROUND_MS;
      long compiled = compileMillis();
      long compiling = compiled - compiledBefore;
      compiledBefore = compiled;
      rounds++;
      // flat: no faster than the best round, and the JIT has (nearly) nothing left to compile
      if (rate > best * 1.05 || compiling > ROUND_MS * QUIET_COMPILE_SHARE) {
        best = Math.max(best, rate);
        flat = 0;
      } else {
        flat++;
      }
      long elapsedMs = (System.nanoTime() - started) / 1_000_000;
      if (flat >= FLAT_ROUNDS || elapsedMs >= budgetMs || !health.ready()) {
        stopping = true;
        LOG.info("event=warmup_done rounds={} best_per_second={} elapsed_ms={} calls={} reason={}", rounds,
            Math.round(best), elapsedMs, calls.size(), flat >= FLAT_ROUNDS ? "flat" : elapsedMs >= budgetMs
                ? "budget" : "runner_not_ready");
        if (inFlight.get() == 0) {
          done.tryComplete();
        }
        return;
      }
      vertx.setTimer(ROUND_MS, id -> round());
    }

    private void send() {
      if (stopping) {
        if (inFlight.get() == 0) {
          done.tryComplete();
        }
        return;
      }
      Call call = calls.get((int) (next.getAndIncrement() % calls.size()));
      inFlight.incrementAndGet();
      RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setURI(call.path())
          .putHeader(HEADER, token)
          .putHeader("content-type", call.grpc() ? "application/grpc" : "application/json");
      if (call.grpc()) {
        options.putHeader("te", "trailers");
      }
      (call.grpc() ? grpc : rest).request(options)
          .compose(req -> req.send(call.body()))
          .compose(resp -> resp.body())
          .onComplete(ar -> {
            inFlight.decrementAndGet();
            completed.incrementAndGet();
            // an unanswered call must not spin: a failed connection waits a little before the next
            if (ar.failed()) {
              vertx.setTimer(50, id -> send());
            } else {
              send();
            }
          });
    }
  }
}
