package dev.gantry.sidecar.adapter;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.ForwardedHeaders;
import dev.gantry.sidecar.core.SidecarException;
import dev.gantry.sidecar.measure.Measure;
import dev.gantry.sidecar.measure.Measurement;
import dev.gantry.sidecar.routing.RouteLayer;
import dev.gantry.sidecar.routing.Router;
import dev.gantry.sidecar.path.RequestPath;
import dev.gantry.sidecar.runner.ModelCatalog;
import dev.gantry.sidecar.runner.RunnerConnection;
import dev.gantry.sidecar.runner.RunnerHealth;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.Optional;
import java.util.function.Function;

/**
 * What a protocol adapter may use: the request path, model metadata, the runner link for
 * non-inference calls, runner health, the measuring layer, what may be forwarded, and the model
 * that serves paths without one.
 */
public record AdapterContext(RequestPath path, ModelCatalog catalog, RunnerConnection runner, RunnerHealth health,
    Measure measure, ForwardedHeaders forwarded, int maxBodyBytes, Optional<String> defaultModel,
    String serverVersion, RouteLayer routes) {
  /** The response header (and gRPC response metadata key) that names the variant that served a request. */
  public static final String VARIANT_HEADER = Router.OVERRIDE_HEADER;
  /**
   * The response header naming the model version that answered (protocols whose bodies cannot say it: MLflow,
   * KServe v1, Seldon; v2 and gRPC answers carry {@code model_version} too).
   */
  public static final String MODEL_VERSION_HEADER = "x-gantry-model-version";
  private static final String TARGET = "gantry.target";

  public AdapterContext {
    requireNonNull(routes, "routes");
    requireNonNull(path, "path");
    requireNonNull(catalog, "catalog");
    requireNonNull(runner, "runner");
    requireNonNull(health, "health");
    requireNonNull(measure, "measure");
    requireNonNull(forwarded, "forwarded");
    requireNonNull(defaultModel, "defaultModel");
    requireNonNull(serverVersion, "serverVersion");
  }

  /** The default model, or NOT_FOUND explaining how to set one. */
  public String requireDefaultModel() {
    return defaultModel.orElseThrow(() -> new SidecarException(ErrorKind.NOT_FOUND,
        "this endpoint has no model in its path and no default model is configured; set --default-model"
            + " (GANTRY_DEFAULT_MODEL) or use a per-model endpoint"));
  }

  /**
   * Mounts a prediction route: the measuring layer first (so that every answer, whatever
   * produces it, is counted), then the body with the size limit, then the adapter's handler.
   *
   * @param target the model and version a request asks for, from its path: {model, version}
   */
  public void predict(Route route, String protocol, Function<RoutingContext, String[]> target,
      Handler<RoutingContext> handler) {
    route.handler(measure.rest(protocol, target))
        .handler(BodyHandler.create(false).setBodyLimit(maxBodyBytes))
        .handler(handler);
  }

  /** {model, ""} for routes that name the model in the path parameter {@code param}. */
  public static Function<RoutingContext, String[]> modelParam(String param) {
    return rc -> new String[] {rc.pathParam(param), ""};
  }

  /** {default model, ""} for routes without a model in the path. */
  public Function<RoutingContext, String[]> defaultTarget() {
    return rc -> new String[] {defaultModel.orElse(""), ""};
  }

  /**
   * The route layer for a REST request: where it goes, and, when it called an endpoint, the variant named to the
   * client ({@value #VARIANT_HEADER} on the answer, errors included) and to the metrics.
   *
   * @throws SidecarException invalid argument for a version asked of an endpoint or an unknown override
   */
  public RouteLayer.Target route(RoutingContext rc, String model, String version) {
    RouteLayer.Target target = routes.route(model, version, h -> rc.request().getHeader(h));
    rc.put(TARGET, target);
    target.assignment().ifPresent(a -> rc.response().putHeader(VARIANT_HEADER, a.variant().name()));
    Measurement m = Measure.of(rc);
    if (m != null) {
      m.target(model, version);
      m.variant(target.variantName());
    }
    return target;
  }

  /** The target {@link #route} chose for a REST request, or null before routing. */
  public static RouteLayer.Target target(RoutingContext rc) {
    return rc.get(TARGET);
  }

  /** Sends an already routed request on: to the target's model and version at the target's upstream. */
  public Future<ModelInferResponse> infer(RoutingContext rc, String protocol, ModelInferRequest request,
      RouteLayer.Target target) {
    return path.infer(HttpSupport.call(rc, protocol, request, forwarded).routed(target.rewrite(request), target.link(),
        target.endpointName(), target.variantName()));
  }

  private static ModelInferResponse withVersionHeader(RoutingContext rc, ModelInferResponse r) {
    if (!r.getModelVersion().isEmpty() && !rc.response().headWritten()) {
      rc.response().putHeader(MODEL_VERSION_HEADER, r.getModelVersion());
    }
    return r;
  }

  /**
   * Inference for protocols that name no version (MLflow, KServe v1, Seldon): the request is routed, then built
   * from the target model's metadata and pinned to the version that metadata describes, so columns are never
   * ordered by one version's signature and answered by another. If that version has gone (a reload), the metadata
   * is fetched again and the request rebuilt once.
   */
  public Future<ModelInferResponse> inferPinned(RoutingContext rc, String protocol, String model,
      Function<ModelMetadataResponse, ModelInferRequest.Builder> build) {
    RouteLayer.Target target;
    try {
      target = route(rc, model, "");
    } catch (SidecarException e) {
      return Future.failedFuture(e);
    }
    return inferPinned(rc, protocol, target, build, System.nanoTime() + path.defaultTimeoutNanos(), true)
        .map(r -> withVersionHeader(rc, r));
  }

  /** The metadata lookup and the call share one deadline: the request's whole time is the request timeout. */
  private Future<ModelInferResponse> inferPinned(RoutingContext rc, String protocol, RouteLayer.Target target,
      Function<ModelMetadataResponse, ModelInferRequest.Builder> build, long deadline, boolean mayRetry) {
    ModelCatalog targetCatalog = target.link().catalog();
    return targetCatalog.metadata(target.model(), target.version())
        .map(meta -> build.apply(meta).setModelName(target.model())
            .setModelVersion(ModelCatalog.describedVersion(meta, target.version())).build())
        .compose(req -> path.infer(HttpSupport.call(rc, protocol, req, forwarded)
                .routed(req, target.link(), target.endpointName(), target.variantName())
                .withTimeoutNanos(Math.max(1, deadline - System.nanoTime())))
            .recover(e -> {
              if (mayRetry && SidecarException.of(e).kind() == ErrorKind.NOT_FOUND) {
                targetCatalog.invalidate(target.model());
                return inferPinned(rc, protocol, target, build, deadline, false);
              }
              return Future.failedFuture(e);
            }));
  }
}
