package dev.gantry.runner.grpc;

import io.vertx.grpc.server.GrpcServerRequest;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The deadline a gRPC call carries in its {@code grpc-timeout} header, as a {@link System#nanoTime()}
 * instant. Read here to the nanosecond: Vert.x's {@code GrpcServerRequest.timeout()} rounds to
 * whole milliseconds, so {@code 500u} or {@code 100n} would read as no deadline at all.
 */
final class GrpcDeadlines {
  /** "1 to 8 digits, then H, M, S, m, u or n" (gRPC over HTTP/2, Timeout). */
  private static final Pattern TIMEOUT = Pattern.compile("([0-9]{1,8})([HMSmun])");
  private static final Map<String, TimeUnit> UNITS = Map.of("H", TimeUnit.HOURS, "M", TimeUnit.MINUTES,
      "S", TimeUnit.SECONDS, "m", TimeUnit.MILLISECONDS, "u", TimeUnit.MICROSECONDS, "n", TimeUnit.NANOSECONDS);
  /** Longer timeouts are as good as none, and keep deadline arithmetic clear of overflow. */
  private static final long MAX_NANOS = TimeUnit.DAYS.toNanos(365);

  private GrpcDeadlines() {}

  /** The call's deadline, or 0 when it has none (or a header that is not a gRPC timeout). */
  static long of(GrpcServerRequest<?, ?> call) {
    long nanos = timeoutNanos(call.headers().get("grpc-timeout"));
    if (nanos < 0) {
      return 0;
    }
    long deadline = System.nanoTime() + nanos;
    return deadline == 0 ? 1 : deadline;
  }

  /** The timeout in nanoseconds, or -1 for none. */
  static long timeoutNanos(String header) {
    if (header == null) {
      return -1;
    }
    Matcher m = TIMEOUT.matcher(header.trim());
    if (!m.matches()) {
      return -1;
    }
    return Math.min(UNITS.get(m.group(2)).toNanos(Long.parseLong(m.group(1))), MAX_NANOS);
  }
}
