package dev.gantry.sidecar.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/**
 * What a request may carry on to the runner: an allow-list of headers (gRPC metadata keys) with a
 * size limit each and in all, so that no caller can make the runner refuse a forwarded request for
 * its headers. Trace context ({@code traceparent}, {@code tracestate}, {@code baggage}), the request
 * id, and the keys the operator configured; a value over its limit is not passed on (W3C trace
 * context lets a hop drop what it cannot carry), and the request goes on without it.
 */
public final class ForwardedHeaders {
  public static final String REQUEST_ID = "x-request-id";
  /** Longest x-request-id kept; a longer one, or one with other than visible ASCII, is replaced. */
  public static final int MAX_REQUEST_ID = 200;
  /** All forwarded values together stay within this, well under HTTP/2 servers' 8 KiB header lists. */
  static final int TOTAL_BUDGET = 4096;
  private static final int CUSTOM_LIMIT = 1024;

  private final Map<String, Integer> limits = new LinkedHashMap<>();

  /** @param extra further header names (lower case) to pass on, as configured */
  public ForwardedHeaders(List<String> extra) {
    limits.put("traceparent", 128);
    limits.put("tracestate", 512);
    limits.put("baggage", 2048);
    for (String name : extra) {
      limits.putIfAbsent(name.toLowerCase(Locale.ROOT), CUSTOM_LIMIT);
    }
  }

  /**
   * The metadata to send on: the request id first, then each allowed header present, within its
   * own limit and the total budget.
   *
   * @param header the request's header (or metadata) value by lower-case name, or null
   */
  public Map<String, String> select(String requestId, Function<String, String> header) {
    Map<String, String> out = new LinkedHashMap<>();
    out.put(REQUEST_ID, requestId);
    int used = REQUEST_ID.length() + requestId.length();
    for (Map.Entry<String, Integer> e : limits.entrySet()) {
      String value = header.apply(e.getKey());
      if (value == null || value.length() > e.getValue() || !visibleAscii(value, true)) {
        continue;
      }
      int size = e.getKey().length() + value.length();
      if (used + size > TOTAL_BUDGET) {
        continue;
      }
      used += size;
      out.put(e.getKey(), value);
    }
    return out;
  }

  /** Header names passed on, besides x-request-id. */
  public List<String> names() {
    return new ArrayList<>(limits.keySet());
  }

  /** The caller's request id if it is usable (1–200 visible ASCII characters), else a new one. */
  public static String requestId(String offered) {
    if (offered == null || offered.isEmpty() || offered.length() > MAX_REQUEST_ID || !visibleAscii(offered, false)) {
      return newRequestId();
    }
    return offered;
  }

  /**
   * A random version-4 UUID from the thread's own generator: request ids need to be unique, not
   * unguessable, and {@link UUID#randomUUID()}'s SecureRandom costs more than the rest of a
   * request's bookkeeping.
   */
  static String newRequestId() {
    java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
    long high = (random.nextLong() & ~0xF000L) | 0x4000L;
    long low = (random.nextLong() & ~(0xC000L << 48)) | (0x8000L << 48);
    return new UUID(high, low).toString();
  }

  private static boolean visibleAscii(String s, boolean spaces) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if ((c < 0x21 || c > 0x7e) && !(spaces && (c == ' ' || c == '\t'))) {
        return false;
      }
    }
    return true;
  }
}
