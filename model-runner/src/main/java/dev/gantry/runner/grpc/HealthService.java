package dev.gantry.runner.grpc;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.health.HealthCheckResponse;
import dev.gantry.proto.health.HealthCheckResponse.ServingStatus;
import dev.gantry.proto.health.HealthGrpcService;
import dev.gantry.proto.inference.GRPCInferenceServiceGrpcService;
import dev.gantry.runner.lifecycle.ModelManager;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServer;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code grpc.health.v1.Health}: the server ("" or the inference service's name) is SERVING when
 * every model asked for is READY; a model's name may be asked for too. Once the runner is
 * stopping, everything is NOT_SERVING and a Watch sends that, then ends with UNAVAILABLE.
 */
public final class HealthService {
  private static final long WATCH_PERIOD_MS = 500;

  private final ModelManager models;

  public HealthService(ModelManager models) {
    this.models = requireNonNull(models, "models");
  }

  public void bind(Vertx vertx, GrpcServer server) {
    server.callHandler(HealthGrpcService.Check, call -> call.handler(req -> {
      ServingStatus status = status(req.getService());
      if (status == ServingStatus.SERVICE_UNKNOWN) {
        call.response().status(GrpcStatus.NOT_FOUND).statusMessage("unknown service '" + req.getService() + "'").end();
      } else {
        call.response().end(HealthCheckResponse.newBuilder().setStatus(status).build());
      }
    }));
    server.callHandler(HealthGrpcService.Watch, call -> call.handler(req -> {
      AtomicReference<ServingStatus> last = new AtomicReference<>();
      java.util.concurrent.atomic.AtomicLong timer = new java.util.concurrent.atomic.AtomicLong(-1);
      Runnable stop = () -> vertx.cancelTimer(timer.get());
      Runnable send = () -> {
        ServingStatus now = status(req.getService());
        if (now != last.getAndSet(now)) {
          // a write fails once the caller has gone (cancelled, reset, disconnected): stop watching
          call.response().write(HealthCheckResponse.newBuilder().setStatus(now).build())
              .onFailure(e -> stop.run());
        }
        if (models.stopping()) {
          // the server is shutting down: the watcher has heard NOT_SERVING; an open watch would
          // hold the connection until the end of the grace period
          stop.run();
          call.response().status(GrpcStatus.UNAVAILABLE).statusMessage("the server is shutting down").end();
        }
      };
      send.run();
      timer.set(vertx.setPeriodic(WATCH_PERIOD_MS, id -> send.run()));
      call.exceptionHandler(e -> stop.run());
      call.response().exceptionHandler(e -> stop.run());
    }));
  }

  ServingStatus status(String service) {
    if (service.isEmpty() || service.equals(GRPCInferenceServiceGrpcService.SERVICE_NAME.fullyQualifiedName())) {
      return models.ready() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    }
    if (models.modelReady(service, "")) {
      return ServingStatus.SERVING;
    }
    return models.knows(service) || !models.served(service).isEmpty() ? ServingStatus.NOT_SERVING
        : ServingStatus.SERVICE_UNKNOWN;
  }
}
