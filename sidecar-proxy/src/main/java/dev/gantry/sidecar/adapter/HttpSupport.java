package dev.gantry.sidecar.adapter;

import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.ForwardedHeaders;
import dev.gantry.sidecar.core.InferenceCall;
import dev.gantry.sidecar.core.SidecarException;
import dev.gantry.sidecar.measure.Measure;
import dev.gantry.sidecar.measure.Measurement;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Locale;
import java.util.function.Function;

/** HTTP plumbing shared by the REST adapters: request ids, JSON bodies, errors in each protocol's shape. */
public final class HttpSupport {
  public static final String REQUEST_ID = ForwardedHeaders.REQUEST_ID;

  private HttpSupport() {}

  /**
   * First handler of every route: keeps the caller's {@code x-request-id} when it is usable
   * (1–200 visible ASCII characters) or makes one, and echoes it.
   */
  public static void assignRequestId(RoutingContext ctx) {
    String id = ForwardedHeaders.requestId(ctx.request().getHeader(REQUEST_ID));
    ctx.put(REQUEST_ID, id);
    ctx.response().putHeader(REQUEST_ID, id);
    ctx.next();
  }

  public static String requestId(RoutingContext ctx) {
    String id = ctx.get(REQUEST_ID);
    return id == null ? ForwardedHeaders.requestId(null) : id;
  }

  /** The body as a JSON object; 415 for a non-JSON content type, 400 naming the parse error. */
  public static JsonObject jsonBody(RoutingContext ctx) {
    requireContentType(ctx, "application/json");
    if (ctx.body() == null || ctx.body().buffer() == null || ctx.body().length() == 0) {
      throw SidecarException.invalid("the request body is empty; send a JSON object");
    }
    try {
      Object value = ctx.body().buffer().toJsonValue();
      if (!(value instanceof JsonObject o)) {
        throw SidecarException.invalid("the request body must be a JSON object, got "
            + (value == null ? "null" : value.getClass().getSimpleName().replace("Json", "").toLowerCase(Locale.ROOT)));
      }
      return o;
    } catch (DecodeException e) {
      throw SidecarException.invalid("malformed JSON: " + firstLine(e.getMessage()));
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "cannot parse";
    }
    int nl = s.indexOf('\n');
    String line = nl < 0 ? s : s.substring(0, nl);
    return line.length() > 300 ? line.substring(0, 300) + "…" : line;
  }

  /** 415 unless the content type is absent or one of {@code accepted} (parameters ignored). */
  public static String requireContentType(RoutingContext ctx, String... accepted) {
    String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
    if (type == null) {
      return accepted[0];
    }
    String bare = type.split(";")[0].trim().toLowerCase(Locale.ROOT);
    for (String a : accepted) {
      if (bare.equals(a) || (a.equals("application/json") && bare.endsWith("+json"))) {
        return a;
      }
    }
    throw new SidecarException(ErrorKind.UNSUPPORTED_MEDIA_TYPE, "content type '" + type + "' is not supported"
        + " here; send " + String.join(" or ", accepted));
  }

  /**
   * The MLflow scoring server's content-type rule: the media type must be one of {@code accepted},
   * with no parameter but {@code charset=utf-8}; anything else is 415.
   */
  public static String requireStrictContentType(RoutingContext ctx, String... accepted) {
    String chosen = requireContentType(ctx, accepted);
    String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
    if (type == null) {
      return chosen;
    }
    String[] parts = type.split(";");
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].trim();
      if (p.isEmpty()) {
        continue;
      }
      int eq = p.indexOf('=');
      String name = (eq < 0 ? p : p.substring(0, eq)).trim().toLowerCase(Locale.ROOT);
      String value = eq < 0 ? "" : p.substring(eq + 1).trim().replace("\"", "").toLowerCase(Locale.ROOT);
      if (!name.equals("charset")) {
        throw new SidecarException(ErrorKind.UNSUPPORTED_MEDIA_TYPE, "content type '" + type + "' has the parameter '"
            + name + "', which is not supported; send " + String.join(" or ", accepted)
            + " with at most charset=utf-8");
      }
      if (!value.equals("utf-8") && !value.equals("utf8")) {
        throw new SidecarException(ErrorKind.UNSUPPORTED_MEDIA_TYPE, "content type '" + type + "' has charset '"
            + value + "'; only utf-8 is supported");
      }
    }
    return chosen;
  }

  /** The call for the request path, carrying the allowed headers on to the runner. */
  public static InferenceCall call(RoutingContext ctx, String protocol, ModelInferRequest request,
      ForwardedHeaders forwarded) {
    String id = requestId(ctx);
    Measurement m = Measure.of(ctx);
    if (m != null && AdapterContext.target(ctx) == null) {
      m.target(request.getModelName(), request.getModelVersion());
    }
    long bytes = ctx.body() == null || ctx.body().buffer() == null ? 0 : ctx.body().length();
    return new InferenceCall(protocol, request, id, 0,
        forwarded.select(id, h -> ctx.request().getHeader(h)), bytes,
        m == null ? Promise.<Void>promise().future() : m.abandoned());
  }

  /**
   * Answers with the runner's result rendered by {@code render}, or with the error in the
   * protocol's shape. Whatever fails after the runner answered (a value that cannot be written
   * as JSON, a renderer's bug) becomes an error answer too: no request is left unanswered.
   */
  public static void respond(RoutingContext ctx, Future<ModelInferResponse> answer,
      Function<ModelInferResponse, Object> render, Function<SidecarException, JsonObject> shape) {
    answer.onComplete(ar -> {
      if (ar.failed()) {
        fail(ctx, ar.cause(), shape);
        return;
      }
      Measurement m = Measure.of(ctx);
      if (m != null) {
        m.answeredBy(ar.result().getModelVersion());
      }
      Buffer body;
      try {
        Object json = render.apply(ar.result());
        body = json instanceof JsonObject o ? o.toBuffer() : io.vertx.core.json.Json.encodeToBuffer(json);
      } catch (RuntimeException | StackOverflowError e) {
        fail(ctx, e instanceof SidecarException se ? se : new SidecarException(ErrorKind.INTERNAL,
            "the model's answer could not be rendered: " + SidecarException.of(e).getMessage()), shape);
        return;
      }
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body);
    });
  }

  /** The plain {@code {"error": "…"}} body that KServe's v1 and v2 protocols use. */
  public static JsonObject errorBody(SidecarException e) {
    return new JsonObject().put("error", e.getMessage());
  }

  /** Answers 200 with a JSON body. */
  public static void ok(RoutingContext ctx, Object json) {
    ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(json instanceof JsonObject o ? o.toBuffer() : io.vertx.core.json.Json.encodeToBuffer(json));
  }

  /** Ends the request with the error's HTTP status and the protocol's error body. */
  public static void fail(RoutingContext ctx, Throwable error, Function<SidecarException, JsonObject> shape) {
    if (ctx.response().ended()) {
      return;
    }
    SidecarException e = SidecarException.of(error);
    Measurement m = Measure.of(ctx);
    if (m != null) {
      m.failed(e.kind());
    }
    ctx.response().setStatusCode(e.kind().httpStatus())
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(shape.apply(e).toBuffer());
  }

  /**
   * A failure handler for an adapter's routes: errors thrown by its handlers and those raised by
   * Vert.x itself (413 from the body limit, 405, …) come out in the protocol's shape.
   */
  public static Handler<RoutingContext> failureHandler(Function<SidecarException, JsonObject> shape) {
    return ctx -> {
      Throwable t = ctx.failure();
      if (t instanceof SidecarException || (t != null && ctx.statusCode() < 400)) {
        fail(ctx, t, shape);
        return;
      }
      int status = ctx.statusCode();
      SidecarException e = switch (status) {
        case 413 -> new SidecarException(ErrorKind.PAYLOAD_TOO_LARGE, "the request body is larger than the"
            + " sidecar's limit (--max-body-bytes)");
        case 404 -> new SidecarException(ErrorKind.NOT_FOUND, "no such endpoint: " + ctx.request().path());
        case 405 -> new SidecarException(ErrorKind.INVALID_ARGUMENT, "method " + ctx.request().method()
            + " is not allowed on " + ctx.request().path());
        default -> new SidecarException(status == 400 ? ErrorKind.INVALID_ARGUMENT : ErrorKind.INTERNAL,
            t == null ? "request failed with HTTP " + status : String.valueOf(t.getMessage()));
      };
      if (status == 405) {
        ctx.response().setStatusCode(405).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
            .end(shape.apply(e).toBuffer());
        return;
      }
      fail(ctx, e, shape);
    };
  }
}
