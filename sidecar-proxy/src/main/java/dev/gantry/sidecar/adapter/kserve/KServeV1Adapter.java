package dev.gantry.sidecar.adapter.kserve;

import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferRequest.InferInputTensor;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.sidecar.adapter.AdapterContext;
import dev.gantry.sidecar.adapter.HttpSupport;
import dev.gantry.sidecar.adapter.ProtocolAdapter;
import dev.gantry.sidecar.adapter.json.Predictions;
import dev.gantry.sidecar.adapter.json.PyfuncOutputs;
import dev.gantry.sidecar.adapter.json.TabularInputs;
import dev.gantry.sidecar.core.SidecarException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * KServe's v1 protocol (TensorFlow Serving's REST form): {@code GET /v1/models/{m}} and
 * {@code POST /v1/models/{m}:predict} with {@code instances} or {@code inputs}. Answers
 * {@code {"predictions": […]}}, one entry per instance, shaped as pyfunc shows the model's outputs
 * ({@link PyfuncOutputs}); errors are {@code {"error": "…"}}.
 */
public final class KServeV1Adapter implements ProtocolAdapter {
  static final String PROTOCOL = "kserve-v1";

  @Override
  public String protocol() {
    return PROTOCOL;
  }

  static JsonObject error(SidecarException e) {
    return HttpSupport.errorBody(e);
  }

  @Override
  public void mount(Router router, AdapterContext ctx) {
    ctx.predict(router.postWithRegex("/v1/models/([^/:]+):predict"), PROTOCOL, AdapterContext.modelParam("param0"),
        rc -> predict(rc, ctx, rc.pathParam("param0")));
    router.getWithRegex("/v1/models/([^/:]+)").handler(rc -> status(rc, ctx, rc.pathParam("param0")));
    router.route("/v1/*").failureHandler(HttpSupport.failureHandler(KServeV1Adapter::error));
  }

  private static void status(RoutingContext rc, AdapterContext ctx, String model) {
    dev.gantry.sidecar.routing.RouteLayer.Target t = ctx.routes().describe(model, "");
    t.link().connection().modelReady(t.model(), t.version())
        .compose(ready -> t.link().catalog().metadata(t.model(), t.version()).map(m -> ready))
        .onSuccess(ready -> HttpSupport.ok(rc, new JsonObject().put("name", model).put("ready", ready)))
        .onFailure(e -> HttpSupport.fail(rc, e, KServeV1Adapter::error));
  }

  private static void predict(RoutingContext rc, AdapterContext ctx, String model) {
    JsonObject body;
    try {
      body = HttpSupport.jsonBody(rc);
    } catch (SidecarException e) {
      HttpSupport.fail(rc, e, KServeV1Adapter::error);
      return;
    }
    // the answer is rendered by the metadata the request was built from (the version it is pinned to)
    AtomicReference<PyfuncOutputs> pyfunc = new AtomicReference<>(PyfuncOutputs.NONE);
    HttpSupport.respond(rc, ctx.inferPinned(rc, PROTOCOL, model, meta -> {
      pyfunc.set(PyfuncOutputs.of(meta));
      return ModelInferRequest.newBuilder().addAllInputs(inputs(meta, body));
    }), r -> Predictions.of(r, true, pyfunc.get()), KServeV1Adapter::error);
  }

  static List<InferInputTensor> inputs(ModelMetadataResponse meta, JsonObject body) {
    boolean hasInstances = body.containsKey("instances");
    if (hasInstances == body.containsKey("inputs")) {
      throw SidecarException.invalid("the body must have exactly one of 'instances' or 'inputs'");
    }
    String key = hasInstances ? "instances" : "inputs";
    if (!(body.getValue(key) instanceof JsonArray instances) || instances.isEmpty()) {
      throw SidecarException.invalid("'" + key + "' must be a non-empty array, one entry per instance");
    }
    if (!(instances.getValue(0) instanceof JsonObject first)) {
      return TabularInputs.fromArray(meta, "'" + key + "'", instances);
    }
    List<String> names = new ArrayList<>(first.fieldNames());
    List<List<Object>> rows = new ArrayList<>();
    for (int i = 0; i < instances.size(); i++) {
      if (!(instances.getValue(i) instanceof JsonObject inst) || !inst.fieldNames().equals(Set.copyOf(names))) {
        throw SidecarException.invalid("'" + key + "' entry " + i + " must be an object with the keys " + names);
      }
      List<Object> row = new ArrayList<>();
      for (String n : names) {
        Object v = inst.getValue(n);
        if (v instanceof JsonArray || v instanceof JsonObject) {
          throw SidecarException.invalid("'" + key + "' entry " + i + " key '" + n + "' holds an array; named"
              + " instances take one value per input here, send arrays in the v2 protocol instead");
        }
        row.add(v);
      }
      rows.add(row);
    }
    return TabularInputs.fromColumns(meta, names, rows, false);
  }
}
