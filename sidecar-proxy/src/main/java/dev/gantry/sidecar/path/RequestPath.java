package dev.gantry.sidecar.path;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.InferenceCall;
import dev.gantry.sidecar.core.SidecarException;
import dev.gantry.sidecar.runner.RunnerConnection;
import dev.gantry.sidecar.runner.RunnerHealth;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The sidecar's request path, read top to bottom: every protocol adapter hands its call here.
 *
 * <ol>
 *   <li>shed load: beyond {@code maxInFlight} calls, refuse at once with RESOURCE_EXHAUSTED;
 *   <li>measure: active requests, latency, input size, outcome;
 *   <li>time out: answer DEADLINE_EXCEEDED when the call's timeout passes (the runner gets the
 *       same deadline and drops the request if it is still queued);
 *   <li>forward to the runner over gRPC; an unreachable runner drops readiness at once.
 * </ol>
 *
 * Runs on the caller's event loop and never blocks.
 */
public final class RequestPath {
  private final Vertx vertx;
  private final RunnerConnection runner;
  private final RunnerHealth health;
  private final ProxyMetrics metrics;
  private final int maxInFlight;
  private final long defaultTimeoutMs;
  private final AtomicInteger inFlight = new AtomicInteger();

  public RequestPath(Vertx vertx, RunnerConnection runner, RunnerHealth health, ProxyMetrics metrics,
      int maxInFlight, long defaultTimeoutMs) {
    this.vertx = requireNonNull(vertx, "vertx");
    this.runner = requireNonNull(runner, "runner");
    this.health = requireNonNull(health, "health");
    this.metrics = requireNonNull(metrics, "metrics");
    this.maxInFlight = maxInFlight;
    this.defaultTimeoutMs = defaultTimeoutMs;
  }

  public Future<ModelInferResponse> infer(InferenceCall call) {
    long start = System.nanoTime();
    if (inFlight.incrementAndGet() > maxInFlight) {
      inFlight.decrementAndGet();
      SidecarException e = new SidecarException(ErrorKind.RESOURCE_EXHAUSTED,
          "too many requests in flight (limit " + maxInFlight + "); retry later");
      metrics.failed(call.model(), call.version(), call.protocol(), System.nanoTime() - start, call.inputBytes(),
          e.kind());
      return Future.failedFuture(e);
    }
    AtomicInteger active = metrics.enter(call.model(), call.version(), call.protocol());
    long timeoutMs = call.timeoutMs() > 0 ? Math.min(call.timeoutMs(), defaultTimeoutMs) : defaultTimeoutMs;
    Promise<ModelInferResponse> answer = Promise.promise();
    long timer = vertx.setTimer(timeoutMs, id -> answer.tryFail(timedOut(call, timeoutMs)));
    runner.infer(call.request(), timeoutMs, call.metadata()).onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        answer.tryComplete(ar.result());
      } else if (System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(timeoutMs)) {
        answer.tryFail(timedOut(call, timeoutMs));
      } else {
        answer.tryFail(ar.cause());
      }
    });
    return answer.future().andThen(ar -> {
      inFlight.decrementAndGet();
      active.decrementAndGet();
      long nanos = System.nanoTime() - start;
      if (ar.succeeded()) {
        metrics.succeeded(call.model(), ar.result().getModelVersion(), call.protocol(), nanos, call.inputBytes());
      } else {
        SidecarException e = SidecarException.of(ar.cause());
        if (e.kind() == ErrorKind.UNAVAILABLE && e.getMessage().contains("unreachable")) {
          health.unreachable(e.getMessage());
        }
        metrics.failed(call.model(), call.version(), call.protocol(), nanos, call.inputBytes(), e.kind());
      }
    });
  }

  private static SidecarException timedOut(InferenceCall call, long timeoutMs) {
    return new SidecarException(ErrorKind.DEADLINE_EXCEEDED, "model '" + call.model() + "' did not answer within "
        + timeoutMs + " ms");
  }

  /** Calls in flight now. */
  public int inFlight() {
    return inFlight.get();
  }
}
