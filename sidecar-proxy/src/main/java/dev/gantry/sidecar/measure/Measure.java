package dev.gantry.sidecar.measure;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.core.ErrorKind;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.PlatformHandler;
import java.util.function.Function;

/**
 * The outermost layer of the request path. Every prediction request is measured from the moment
 * it reaches the sidecar (before its body is read) to the moment its answer is complete, and
 * counted once with the outcome the client received, whichever layer or adapter produced it: a
 * malformed body, a body over the limit, an unknown model, a runner outage or a success alike.
 */
public final class Measure {
  private static final String KEY = "gantry.measurement";

  private final ProxyMetrics metrics;
  private final java.util.function.Predicate<HttpServerRequest> uncounted;

  public Measure(ProxyMetrics metrics) {
    this(metrics, r -> false);
  }

  /** @param uncounted the requests not to count: the sidecar's own warm-up requests */
  public Measure(ProxyMetrics metrics, java.util.function.Predicate<HttpServerRequest> uncounted) {
    this.metrics = requireNonNull(metrics, "metrics");
    this.uncounted = requireNonNull(uncounted, "uncounted");
  }

  private Measurement open(HttpServerRequest request, String protocol) {
    return uncounted.test(request) ? metrics.openUncounted(protocol) : metrics.open(protocol);
  }

  /**
   * A route handler that opens the request's measurement and closes it when the response ends
   * (or the client goes); it must come before the body handler.
   *
   * @param target the model and version a request of this route asks for, from its path
   */
  public PlatformHandler rest(String protocol, Function<RoutingContext, String[]> target) {
    requireNonNull(protocol, "protocol");
    requireNonNull(target, "target");
    // a platform handler: Vert.x Web lets only those run before the body handler
    return rc -> {
      Measurement m = open(rc.request(), protocol);
      rc.put(KEY, m);
      String[] modelAndVersion = target.apply(rc);
      m.target(modelAndVersion[0], modelAndVersion[1]);
      rc.addEndHandler(ar -> {
        int status = rc.response().getStatusCode();
        m.close(ar.succeeded() && status < 400, ar.succeeded() ? fromHttpStatus(status) : ErrorKind.CANCELLED,
            rc.request().bytesRead());
      });
      rc.next();
    };
  }

  /** The measurement of a REST request, or null for a route that is not a prediction. */
  public static Measurement of(RoutingContext rc) {
    return rc.get(KEY);
  }

  /**
   * Opens the measurement of a gRPC call at the HTTP/2 stream, before the gRPC server decodes
   * anything, and closes it with the {@code grpc-status} the client received (or CANCELLED when
   * the stream ends without one).
   */
  public Measurement grpc(HttpServerRequest request, String protocol) {
    Measurement m = open(request, protocol);
    HttpServerResponse response = request.response();
    // Vert.x may call the close handler before the end handler when a stream ends normally: both
    // read the status the client was sent, and the measurement counts only the first
    response.endHandler(v -> closeGrpc(m, request));
    response.closeHandler(v -> closeGrpc(m, request));
    return m;
  }

  private static void closeGrpc(Measurement m, HttpServerRequest request) {
    HttpServerResponse response = request.response();
    String status = response.trailers().get("grpc-status");
    if (status == null) {
      status = response.headers().get("grpc-status");
    }
    int code = response.ended() ? parseCode(status) : -1;
    m.close(code == 0, code < 0 ? ErrorKind.CANCELLED : ErrorKind.fromGrpcCode(code), request.bytesRead());
  }

  private static int parseCode(String status) {
    if (status == null) {
      return -1;
    }
    try {
      return Integer.parseInt(status.trim());
    } catch (NumberFormatException e) {
      return ErrorKind.INTERNAL.grpcCode();
    }
  }

  static ErrorKind fromHttpStatus(int status) {
    return switch (status) {
      case 400, 405, 411, 414, 431 -> ErrorKind.INVALID_ARGUMENT;
      case 404 -> ErrorKind.NOT_FOUND;
      case 413 -> ErrorKind.PAYLOAD_TOO_LARGE;
      case 415 -> ErrorKind.UNSUPPORTED_MEDIA_TYPE;
      case 429 -> ErrorKind.RESOURCE_EXHAUSTED;
      case 503 -> ErrorKind.UNAVAILABLE;
      case 504 -> ErrorKind.DEADLINE_EXCEEDED;
      default -> ErrorKind.INTERNAL;
    };
  }
}
