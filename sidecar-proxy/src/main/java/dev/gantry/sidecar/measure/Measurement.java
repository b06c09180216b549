package dev.gantry.sidecar.measure;

import dev.gantry.sidecar.core.ErrorKind;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One prediction request as the metrics see it: opened when it reaches the sidecar, before its
 * body is read; told what it is about and how it ended by the layers it passes; closed exactly
 * once, when the client has been answered (or has gone), and counted then.
 */
public final class Measurement {
  private final ProxyMetrics metrics;
  private final String protocol;
  private final long startNanos = System.nanoTime();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile String model = "";
  private volatile String version = "";
  private volatile String answeredVersion;
  private volatile String variant = "";
  private volatile ErrorKind error;
  private volatile AtomicInteger active;
  private final Promise<Void> abandoned = Promise.promise();

  /** Whether the request is counted (the sidecar's own warm-up requests are not). */
  private final boolean counted;

  Measurement(ProxyMetrics metrics, String protocol, boolean counted) {
    this.metrics = metrics;
    this.protocol = protocol;
    this.counted = counted;
  }

  /** The model and version the request asked for; counts it as active from now on. */
  public void target(String model, String version) {
    this.model = model == null ? "" : model;
    this.version = version == null ? "" : version;
    if (counted && active == null && !closed.get()) {
      active = metrics.enter(this.model, this.version, protocol);
    }
  }

  /** The route layer sent the request to this variant of the endpoint it called ("" for none). */
  public void variant(String name) {
    this.variant = name == null ? "" : name;
  }

  /** The runner answered with this version. */
  public void answeredBy(String version) {
    this.answeredVersion = version;
  }

  /** The request failed with this kind of error (the first one said wins). */
  public void failed(ErrorKind kind) {
    if (error == null) {
      error = kind;
    }
  }

  /** Closes with the outcome; {@code fallback} is the kind used when no layer said one. Only the first close counts. */
  void close(boolean ok, ErrorKind fallback, long inputBytes) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    AtomicInteger gauge = active;
    if (gauge != null) {
      gauge.decrementAndGet();
    }
    long nanos = System.nanoTime() - startNanos;
    if (!ok && fallback == ErrorKind.CANCELLED && error == null) {
      abandoned.tryComplete();
    }
    if (!counted) {
      return;
    }
    if (ok && error == null) {
      metrics.succeeded(model, answeredVersion == null ? version : answeredVersion, protocol, variant, nanos,
          inputBytes);
    } else {
      metrics.failed(model, version, protocol, variant, nanos, inputBytes, error != null ? error : fallback);
    }
  }

  /** Completes if the client goes away before it is answered. */
  public Future<Void> abandoned() {
    return abandoned.future();
  }

  public String protocol() {
    return protocol;
  }
}
