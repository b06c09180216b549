package dev.gantry.sidecar.path;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.InferenceCall;
import dev.gantry.sidecar.core.SidecarException;
import dev.gantry.sidecar.runner.RunnerConnection;
import dev.gantry.sidecar.runner.RunnerHealth;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The sidecar's request path below the protocol adapters, read top to bottom. Measurement is the
 * layer above the adapters ({@link dev.gantry.sidecar.measure.Measure}); every adapter hands its
 * decoded call here.
 *
 * <ol>
 *   <li>refuse model names and versions longer than any model has ({@value #MAX_NAME} characters);
 *   <li>shed load: beyond {@code maxInFlight} calls, refuse at once with RESOURCE_EXHAUSTED;
 *   <li>time out: the call's deadline is the caller's (gRPC {@code grpc-timeout}, to the
 *       nanosecond) or the sidecar's request timeout, whichever is shorter; when it passes the
 *       caller gets DEADLINE_EXCEEDED and the call to the runner is cancelled;
 *   <li>mirror and count: once dispatched, a call to an endpoint is shown to the taps ({@link CallTap}): the
 *       shadow mirror may copy it, experiments count it; off the path;
 *   <li>forward to the upstream the route layer chose (the pod's own runner unless the request called an
 *       endpoint; {@link dev.gantry.sidecar.routing.RouteLayer}) with the time that is left; a caller that goes
 *       away cancels its call.
 *       Only a runner that cannot be connected to drops readiness; a call that fails on its own
 *       (a reset stream, a refused header) fails that call alone.
 * </ol>
 *
 * Runs on the caller's event loop and never blocks.
 */
public final class RequestPath {
  /** Longest model name or version taken: no served model has a longer one, and errors echo them. */
  static final int MAX_NAME = 256;

  private final RunnerConnection runner;
  private final RunnerHealth health;
  private final int maxInFlight;
  private final long defaultTimeoutNanos;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final List<CallTap> taps;

  public RequestPath(RunnerConnection runner, RunnerHealth health, int maxInFlight, long defaultTimeoutMs) {
    this(runner, health, maxInFlight, defaultTimeoutMs, List.of());
  }

  /** @param taps see calls to endpoints once they are dispatched: the shadow mirror, experiment counts */
  public RequestPath(RunnerConnection runner, RunnerHealth health, int maxInFlight, long defaultTimeoutMs,
      List<CallTap> taps) {
    this.taps = List.copyOf(taps);
    this.runner = requireNonNull(runner, "runner");
    this.health = requireNonNull(health, "health");
    this.maxInFlight = maxInFlight;
    this.defaultTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(defaultTimeoutMs);
  }

  /** Why a call is refused before it is sent (its names are too long, or too many are in flight); null: taken. */
  private SidecarException admit(String model, String version) {
    if (model.length() > MAX_NAME || version.length() > MAX_NAME) {
      return SidecarException.invalid("model name and version may be at most " + MAX_NAME
          + " characters; got " + model.length() + " and " + version.length());
    }
    if (inFlight.incrementAndGet() > maxInFlight) {
      inFlight.decrementAndGet();
      return new SidecarException(ErrorKind.RESOURCE_EXHAUSTED,
          "too many requests in flight (limit " + maxInFlight + "); retry later");
    }
    return null;
  }

  private long timeoutNanos(long asked) {
    return asked > 0 ? Math.min(asked, defaultTimeoutNanos) : defaultTimeoutNanos;
  }

  /**
   * A call to the pod's own runner that calls no endpoint, with its serialized ModelInferRequest passed through as
   * it came and the runner's serialized answer passed back: the same admission, deadline and outage handling as
   * {@link #infer}, without decoding and encoding the tensors again (no tap sees calls that are not to endpoints).
   *
   * @param timeoutNanos the caller's deadline; 0 for the sidecar's default
   */
  public Future<Buffer> inferRaw(String model, String version, Buffer request, long timeoutNanos,
      Map<String, String> metadata, Future<Void> abandoned) {
    SidecarException refused = admit(model, version);
    if (refused != null) {
      return Future.failedFuture(refused);
    }
    long timeout = timeoutNanos(timeoutNanos);
    return runner.inferRaw(request, timeout, metadata, abandoned)
        .recover(e -> Future.failedFuture(explain(model, true, timeout, e)))
        .andThen(ar -> inFlight.decrementAndGet());
  }

  public Future<ModelInferResponse> infer(InferenceCall call) {
    SidecarException refused = admit(call.model(), call.version());
    if (refused != null) {
      return Future.failedFuture(refused);
    }
    long timeoutNanos = timeoutNanos(call.timeoutNanos());
    RunnerConnection upstream = call.upstream() == null ? runner : call.upstream().connection();
    boolean local = call.upstream() == null || call.upstream().local();
    long dispatched = System.nanoTime();
    Future<ModelInferResponse> answer = upstream.infer(call.request(), timeoutNanos, call.metadata(),
        call.abandoned());
    if (!call.endpoint().isEmpty()) {
      // after dispatch, off the path: nothing a tap does reaches this call's answer
      for (CallTap tap : taps) {
        tap.dispatched(call, answer, dispatched);
      }
    }
    return answer.recover(e -> Future.failedFuture(explain(call.model(), local, timeoutNanos, e)))
        .andThen(ar -> inFlight.decrementAndGet());
  }

  private Throwable explain(String model, boolean local, long timeoutNanos, Throwable e) {
    SidecarException error = SidecarException.of(e);
    // a remote upstream that is down fails its own calls; only the pod's own runner is this pod's readiness
    if (local && RunnerConnection.isUnreachable(error)) {
      health.unreachable(error.getMessage());
    }
    if (error.kind() == ErrorKind.DEADLINE_EXCEEDED) {
      return new SidecarException(ErrorKind.DEADLINE_EXCEEDED, "model '" + model + "' did not answer within "
          + RunnerConnection.formatNanos(timeoutNanos));
    }
    return error;
  }

  /** The sidecar's own request timeout, in nanoseconds. */
  public long defaultTimeoutNanos() {
    return defaultTimeoutNanos;
  }

  /** Calls in flight now. */
  public int inFlight() {
    return inFlight.get();
  }
}
