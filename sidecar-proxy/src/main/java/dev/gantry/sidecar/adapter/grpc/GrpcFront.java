package dev.gantry.sidecar.adapter.grpc;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.health.HealthCheckResponse;
import dev.gantry.proto.health.HealthGrpcService;
import dev.gantry.proto.inference.GRPCInferenceServiceGrpcService;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelReadyResponse;
import dev.gantry.proto.inference.ServerLiveResponse;
import dev.gantry.proto.inference.ServerMetadataResponse;
import dev.gantry.proto.inference.ServerReadyResponse;
import dev.gantry.sidecar.adapter.AdapterContext;
import dev.gantry.sidecar.adapter.HttpSupport;
import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.ForwardedHeaders;
import dev.gantry.sidecar.core.InferenceCall;
import dev.gantry.sidecar.core.SidecarException;
import dev.gantry.sidecar.measure.Measurement;
import dev.gantry.sidecar.routing.RouteLayer;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.buffer.Buffer;
import io.vertx.grpc.common.GrpcMessage;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.MessageSizeOverflowException;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import java.util.concurrent.TimeUnit;

/**
 * The Open Inference gRPC API in front of the runner, and {@code grpc.health.v1.Health}, on one
 * event loop's gRPC server.
 *
 * <ul>
 *   <li>ModelInfer is measured from its HTTP/2 stream on (so calls the gRPC server itself refuses,
 *       an oversized or undecodable message, are counted too), then goes through the request path.
 *   <li>The caller's deadline ({@code grpc-timeout}, to the nanosecond) bounds the call; the
 *       allowed metadata (trace context, {@code x-request-id}, configured keys) goes on to the
 *       runner; {@code x-request-id} (the caller's if usable, else a new one) comes back in the
 *       response headers.
 * </ul>
 */
public final class GrpcFront {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(GrpcFront.class);
  static final String PROTOCOL = "grpc";
  static final String MODEL_INFER_PATH = "/" + GRPCInferenceServiceGrpcService.SERVICE_NAME.fullyQualifiedName()
      + "/ModelInfer";

  private final AdapterContext ctx;
  private final GrpcServer server;
  /** Handed from {@link #handle} to the ModelInfer call handler, which the gRPC server calls synchronously. */
  private Measurement arriving;

  /** Binds the services on {@code server}; requests then come in through {@link #handle}. */
  public GrpcFront(AdapterContext ctx, GrpcServer server) {
    this.ctx = requireNonNull(ctx, "ctx");
    this.server = requireNonNull(server, "server");
    bind();
  }

  /** A gRPC request from the HTTP server (on this front's event loop). */
  public void handle(HttpServerRequest request) {
    if (!MODEL_INFER_PATH.equals(request.path())) {
      server.handle(request);
      return;
    }
    arriving = ctx.measure().grpc(request, PROTOCOL);
    try {
      server.handle(request);
    } finally {
      arriving = null;
    }
  }

  private void bind() {
    server.callHandler(GRPCInferenceServiceGrpcService.ModelInfer, call -> {
      Measurement m = arriving;
      arriving = null;
      // Vert.x resets the stream of a message it cannot take, and the caller gets no status at all:
      // these answer in gRPC's own terms instead
      call.invalidMessageHandler(invalid -> refuse(call, m, invalid instanceof MessageSizeOverflowException
          ? new SidecarException(ErrorKind.RESOURCE_EXHAUSTED, "the message is larger than the sidecar's limit"
              + " (--max-body-bytes)")
          : SidecarException.invalid("the ModelInferRequest could not be read: " + invalid.getMessage())));
      call.messageHandler(message -> {
        if ("identity".equals(message.encoding()) && passThrough(call, m, message.payload())) {
          return;
        }
        ModelInferRequest req;
        try {
          req = decode(message);
        } catch (SidecarException e) {
          refuse(call, m, e);
          return;
        }
        infer(call, m, req);
      });
    });
    // an endpoint is described by its widest variant, under the endpoint's name
    server.callHandler(GRPCInferenceServiceGrpcService.ModelMetadata, call -> call.handler(req -> {
      RouteLayer.Target t = ctx.routes().describe(req.getName(), req.getVersion());
      answer(call.response(), t.link().catalog().metadata(t.model(), t.version())
          .map(meta -> t.assignment().isEmpty() ? meta : meta.toBuilder().setName(req.getName()).build()));
    }));
    server.callHandler(GRPCInferenceServiceGrpcService.ModelReady, call -> call.handler(req -> {
      RouteLayer.Target t = ctx.routes().describe(req.getName(), req.getVersion());
      answer(call.response(), t.link().connection().modelReady(t.model(), t.version())
          .map(r -> ModelReadyResponse.newBuilder().setReady(r).build()));
    }));
    server.callHandler(GRPCInferenceServiceGrpcService.ServerLive, call -> call.handler(req ->
        answer(call.response(), ctx.runner().serverReady(5000)
            .map(r -> ServerLiveResponse.newBuilder().setLive(true).build()))));
    server.callHandler(GRPCInferenceServiceGrpcService.ServerReady, call -> call.handler(req ->
        answer(call.response(), ctx.runner().serverReady(5000)
            .map(r -> ServerReadyResponse.newBuilder().setReady(r).build()))));
    server.callHandler(GRPCInferenceServiceGrpcService.ServerMetadata, call -> call.handler(req ->
        call.response().end(ServerMetadataResponse.newBuilder().setName("gantry").setVersion(ctx.serverVersion())
            .build())));
    server.callHandler(HealthGrpcService.Check, call -> call.handler(req -> {
      String service = req.getService();
      if (!service.isEmpty() && !service.equals(GRPCInferenceServiceGrpcService.SERVICE_NAME.fullyQualifiedName())) {
        call.response().status(GrpcStatus.NOT_FOUND).statusMessage("unknown service '" + service + "'").end();
        return;
      }
      call.response().end(HealthCheckResponse.newBuilder().setStatus(ctx.health().ready()
          ? HealthCheckResponse.ServingStatus.SERVING : HealthCheckResponse.ServingStatus.NOT_SERVING).build());
    }));
  }

  private static void refuse(GrpcServerRequest<ModelInferRequest, ModelInferResponse> call, Measurement m,
      SidecarException e) {
    if (m != null) {
      m.failed(e.kind());
    }
    answer(call.response(), Future.failedFuture(e));
  }

  private void infer(GrpcServerRequest<ModelInferRequest, ModelInferResponse> call, Measurement m,
      ModelInferRequest req) {
    String id = ForwardedHeaders.requestId(call.headers().get(HttpSupport.REQUEST_ID));
    call.response().headers().set(HttpSupport.REQUEST_ID, id);
    if (m != null) {
      m.target(req.getModelName(), req.getModelVersion());
    }
    RouteLayer.Target target;
    try {
      target = ctx.routes().route(req.getModelName(), req.getModelVersion(), k -> call.headers().get(k));
    } catch (SidecarException e) {
      refuse(call, m, e);
      return;
    }
    if (target.assignment().isPresent()) {
      call.response().headers().set(AdapterContext.VARIANT_HEADER, target.variantName());
      if (m != null) {
        m.variant(target.variantName());
      }
    }
    InferenceCall inference = new InferenceCall(PROTOCOL, target.rewrite(req), id, timeoutNanos(call.headers().get("grpc-timeout")),
        ctx.forwarded().select(id, k -> call.headers().get(k)), req.getSerializedSize(),
        m == null ? io.vertx.core.Promise.<Void>promise().future() : m.abandoned(), target.link(),
        target.endpointName(), target.variantName());
    answer(call.response(), ctx.path().infer(inference).andThen(ar -> {
      if (m != null) {
        if (ar.succeeded()) {
          m.answeredBy(ar.result().getModelVersion());
        } else {
          m.failed(SidecarException.of(ar.cause()).kind());
        }
      }
    }));
  }

  /**
   * Serves a call to a model of the pod's own runner (no endpoint) without decoding it: only the model name and
   * version are read off the message, which goes to the runner as it came, and the runner's answer comes back as it
   * was sent (only its model version is read, for the metrics). Calls to endpoints, whose taps look at requests and
   * answers, are decoded ({@link #infer}).
   *
   * @return false when the call is not one for this path (it is then served by {@link #infer})
   */
  private boolean passThrough(GrpcServerRequest<ModelInferRequest, ModelInferResponse> call, Measurement m,
      Buffer payload) {
    String[] names;
    try {
      names = WireFields.strings(payload, 1, 2);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return false;
    }
    if (ctx.routes().isEndpoint(names[0])) {
      return false;
    }
    String id = ForwardedHeaders.requestId(call.headers().get(HttpSupport.REQUEST_ID));
    call.response().headers().set(HttpSupport.REQUEST_ID, id);
    if (m != null) {
      m.target(names[0], names[1]);
    }
    // one copy: the message outlives this handler, which may not hold on to the server's buffer
    Future<Buffer> answer = ctx.path().inferRaw(names[0], names[1], payload.copy(),
        timeoutNanos(call.headers().get("grpc-timeout")), ctx.forwarded().select(id, k -> call.headers().get(k)),
        m == null ? io.vertx.core.Promise.<Void>promise().future() : m.abandoned());
    answer.onComplete(ar -> {
      try {
        if (ar.succeeded()) {
          if (m != null) {
            try {
              m.answeredBy(WireFields.strings(ar.result(), 2)[0]);
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
              // the client gets the runner's answer as it is; the metrics keep the version asked for
            }
          }
          call.response().endMessage(io.vertx.grpc.common.GrpcMessage.message("identity", ar.result()));
        } else {
          SidecarException e = SidecarException.of(ar.cause());
          if (m != null) {
            m.failed(e.kind());
          }
          call.response().status(GrpcStatus.valueOf(e.kind().grpcCode())).statusMessage(e.getMessage()).end();
        }
      } catch (RuntimeException e) {
        // the caller reset the stream (cancelled, or its deadline passed): there is no one to answer
        LOG.debug("event=grpc_answer_dropped reason=\"{}\"", e.toString());
      }
    });
    return true;
  }

  /** A ModelInferRequest from its gRPC message (identity or gzip), or INVALID_ARGUMENT saying why not. */
  private ModelInferRequest decode(GrpcMessage message) {
    Buffer payload = message.payload();
    if ("gzip".equals(message.encoding())) {
      try (java.util.zip.GZIPInputStream in = new java.util.zip.GZIPInputStream(
          new java.io.ByteArrayInputStream(payload.getBytes()))) {
        byte[] plain = in.readNBytes(ctx.maxBodyBytes() + 1);
        if (plain.length > ctx.maxBodyBytes()) {
          throw new SidecarException(ErrorKind.RESOURCE_EXHAUSTED, "the decompressed message is larger than the"
              + " sidecar's limit (--max-body-bytes)");
        }
        payload = Buffer.buffer(plain);
      } catch (java.io.IOException e) {
        throw SidecarException.invalid("the gzip-compressed message could not be decompressed: " + e.getMessage());
      }
    } else if (!"identity".equals(message.encoding())) {
      throw SidecarException.invalid("message encoding '" + message.encoding() + "' is not supported; use identity"
          + " or gzip");
    }
    try {
      return ModelInferRequest.parseFrom(payload.getBytes());
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw SidecarException.invalid("the ModelInferRequest could not be decoded: " + e.getMessage());
    }
  }

  /**
   * A {@code grpc-timeout} header (1–8 digits and a unit: H, M, S, m, u, n) in nanoseconds; 0 when
   * absent or malformed (the sidecar's own timeout then applies).
   */
  static long timeoutNanos(String header) {
    if (header == null || header.length() < 2 || header.length() > 9) {
      return 0;
    }
    long value;
    try {
      value = Long.parseLong(header.substring(0, header.length() - 1));
    } catch (NumberFormatException e) {
      return 0;
    }
    if (value <= 0) {
      return 0;
    }
    TimeUnit unit = switch (header.charAt(header.length() - 1)) {
      case 'H' -> TimeUnit.HOURS;
      case 'M' -> TimeUnit.MINUTES;
      case 'S' -> TimeUnit.SECONDS;
      case 'm' -> TimeUnit.MILLISECONDS;
      case 'u' -> TimeUnit.MICROSECONDS;
      case 'n' -> TimeUnit.NANOSECONDS;
      default -> null;
    };
    return unit == null ? 0 : unit.toNanos(value);
  }

  private static <T> void answer(GrpcServerResponse<?, T> response, Future<T> result) {
    result.onComplete(ar -> {
      try {
        if (ar.succeeded()) {
          response.end(ar.result());
        } else {
          SidecarException e = SidecarException.of(ar.cause());
          response.status(GrpcStatus.valueOf(e.kind().grpcCode())).statusMessage(e.getMessage()).end();
        }
      } catch (RuntimeException e) {
        // the caller reset the stream (cancelled, or its deadline passed): there is no one to answer
        LOG.debug("event=grpc_answer_dropped reason=\"{}\"", e.toString());
      }
    });
  }


}
