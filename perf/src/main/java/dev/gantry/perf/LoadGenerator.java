package dev.gantry.perf;

import static java.util.Objects.requireNonNull;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * Our own load generator: Vert.x calls in this JVM, open loop at a fixed rate or closed loop at a
 * fixed concurrency. Calls start on an event loop, as a Vert.x client expects.
 */
final class LoadGenerator {
  private final Vertx vertx;

  LoadGenerator(Vertx vertx) {
    this.vertx = requireNonNull(vertx, "vertx");
  }

  /** Sends at a fixed rate whatever the answers do; latency counts from the scheduled send time, so stalls show. */
  LatencyRecorder.Result openLoop(Supplier<Future<?>> call, int rate, double seconds) throws InterruptedException {
    Context sender = vertx.getOrCreateContext();
    LatencyRecorder rec = new LatencyRecorder();
    AtomicLong ok = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    long total = (long) (rate * seconds);
    CountDownLatch done = new CountDownLatch((int) total);
    long interval = 1_000_000_000L / rate;
    long start = System.nanoTime();
    for (long i = 0; i < total; i++) {
      long due = start + i * interval;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      sender.runOnContext(v -> call.get().onComplete(ar -> {
        try {
          if (ar.succeeded()) {
            rec.record(System.nanoTime() - due);
            ok.incrementAndGet();
          } else {
            errors.incrementAndGet();
          }
        } finally {
          done.countDown();
        }
      }));
    }
    if (!done.await(30 + (long) seconds, TimeUnit.SECONDS)) {
      System.err.printf("open loop at %d req/s: %d of %d calls never completed (ok %d, errors %d)%n", rate,
          done.getCount(), total, ok.get(), errors.get());
    }
    double took = (System.nanoTime() - start) / 1e9;
    return rec.result(ok.get(), took, errors.get());
  }

  /** {@code concurrency} callers, each sending its next call when its last one is answered. */
  LatencyRecorder.Result closedLoop(Supplier<Future<?>> call, int concurrency, double seconds)
      throws InterruptedException {
    Context sender = vertx.getOrCreateContext();
    LatencyRecorder rec = new LatencyRecorder();
    AtomicLong ok = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    long start = System.nanoTime();
    long deadline = start + (long) (seconds * 1e9);
    CountDownLatch done = new CountDownLatch(concurrency);
    for (int i = 0; i < concurrency; i++) {
      sender.runOnContext(v -> next(call, deadline, rec, ok, errors, done));
    }
    done.await(30 + (long) seconds, TimeUnit.SECONDS);
    double took = (System.nanoTime() - start) / 1e9;
    return rec.result(ok.get(), took, errors.get());
  }

  private static void next(Supplier<Future<?>> call, long deadline, LatencyRecorder rec, AtomicLong ok,
      AtomicLong errors, CountDownLatch done) {
    if (System.nanoTime() >= deadline) {
      done.countDown();
      return;
    }
    long t0 = System.nanoTime();
    call.get().onComplete(ar -> {
      if (ar.succeeded()) {
        rec.record(System.nanoTime() - t0);
        ok.incrementAndGet();
      } else {
        errors.incrementAndGet();
      }
      next(call, deadline, rec, ok, errors, done);
    });
  }
}
