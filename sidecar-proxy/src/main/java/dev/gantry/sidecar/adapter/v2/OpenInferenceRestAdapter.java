package dev.gantry.sidecar.adapter.v2;

import dev.gantry.proto.inference.InferParameter;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.sidecar.adapter.AdapterContext;
import dev.gantry.sidecar.adapter.HttpSupport;
import dev.gantry.sidecar.adapter.ProtocolAdapter;
import dev.gantry.sidecar.adapter.json.JsonTensors;
import dev.gantry.sidecar.adapter.json.Shapes;
import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.SidecarException;
import dev.gantry.sidecar.routing.RouteLayer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The Open Inference Protocol v2 over REST (KServe v2): health, server and model metadata,
 * readiness and inference with JSON tensors. Errors are {@code {"error": "…"}}.
 */
public final class OpenInferenceRestAdapter implements ProtocolAdapter {
  static final String PROTOCOL = "v2";

  @Override
  public String protocol() {
    return PROTOCOL;
  }

  static JsonObject error(SidecarException e) {
    return HttpSupport.errorBody(e);
  }

  @Override
  public void mount(Router router, AdapterContext ctx) {
    router.get("/v2").handler(rc -> HttpSupport.ok(rc, new JsonObject().put("name", "gantry")
        .put("version", ctx.serverVersion()).put("extensions", new JsonArray())));
    router.get("/v2/health/live").handler(rc -> HttpSupport.ok(rc, new JsonObject().put("live", true)));
    router.get("/v2/health/ready").handler(rc -> {
      if (ctx.health().ready()) {
        HttpSupport.ok(rc, new JsonObject().put("ready", true));
      } else {
        HttpSupport.fail(rc, new SidecarException(ErrorKind.UNAVAILABLE, "not ready: " + ctx.health().reason()),
            OpenInferenceRestAdapter::error);
      }
    });
    router.get("/v2/models/:model").handler(rc -> metadata(rc, ctx, ""));
    router.get("/v2/models/:model/versions/:version").handler(rc -> metadata(rc, ctx, rc.pathParam("version")));
    router.get("/v2/models/:model/ready").handler(rc -> ready(rc, ctx, ""));
    router.get("/v2/models/:model/versions/:version/ready").handler(rc -> ready(rc, ctx, rc.pathParam("version")));
    ctx.predict(router.post("/v2/models/:model/infer"), PROTOCOL, AdapterContext.modelParam("model"),
        rc -> infer(rc, ctx, ""));
    ctx.predict(router.post("/v2/models/:model/versions/:version/infer"), PROTOCOL,
        rc -> new String[] {rc.pathParam("model"), rc.pathParam("version")},
        rc -> infer(rc, ctx, rc.pathParam("version")));
    router.route("/v2/*").failureHandler(HttpSupport.failureHandler(OpenInferenceRestAdapter::error));
    router.route("/v2").failureHandler(HttpSupport.failureHandler(OpenInferenceRestAdapter::error));
  }

  private static void metadata(RoutingContext rc, AdapterContext ctx, String version) {
    String model = rc.pathParam("model");
    RouteLayer.Target target = ctx.routes().describe(model, version);
    target.link().catalog().metadata(target.model(), target.version())
        .onSuccess(m -> HttpSupport.ok(rc, metadataJson(target.assignment().isEmpty() ? m
            : m.toBuilder().setName(model).build())))
        .onFailure(e -> HttpSupport.fail(rc, e, OpenInferenceRestAdapter::error));
  }

  static JsonObject metadataJson(ModelMetadataResponse m) {
    JsonObject json = new JsonObject().put("name", m.getName()).put("versions", new JsonArray(m.getVersionsList()))
        .put("platform", m.getPlatform());
    JsonArray inputs = new JsonArray();
    m.getInputsList().forEach(t -> inputs.add(tensorJson(t)));
    JsonArray outputs = new JsonArray();
    m.getOutputsList().forEach(t -> outputs.add(tensorJson(t)));
    json.put("inputs", inputs).put("outputs", outputs);
    if (m.getParametersCount() > 0) {
      // max_batch_size; for a model named by URI: source_uri, source_version and, after a failed move, update_failure
      JsonObject p = new JsonObject();
      m.getParametersMap().forEach((k, v) -> p.put(k, parameterValue(v)));
      json.put("parameters", p);
    }
    return json;
  }

  private static JsonObject tensorJson(ModelMetadataResponse.TensorMetadata t) {
    JsonObject json = new JsonObject().put("name", t.getName()).put("datatype", t.getDatatype())
        .put("shape", new JsonArray(t.getShapeList()));
    if (t.getParametersCount() > 0) {
      JsonObject p = new JsonObject();
      t.getParametersMap().forEach((k, v) -> p.put(k, parameterValue(v)));
      json.put("parameters", p);
    }
    return json;
  }

  private static Object parameterValue(InferParameter p) {
    return switch (p.getParameterChoiceCase()) {
      case BOOL_PARAM -> p.getBoolParam();
      case INT64_PARAM -> p.getInt64Param();
      case DOUBLE_PARAM -> p.getDoubleParam();
      case UINT64_PARAM -> p.getUint64Param();
      default -> p.getStringParam();
    };
  }

  private static void ready(RoutingContext rc, AdapterContext ctx, String version) {
    String model = rc.pathParam("model");
    RouteLayer.Target target = ctx.routes().describe(model, version);
    if (target.assignment().isPresent()) {
      target.link().connection().modelReady(target.model(), target.version()).onComplete(ar -> {
        if (ar.succeeded() && ar.result()) {
          HttpSupport.ok(rc, new JsonObject().put("name", model).put("ready", true));
        } else {
          HttpSupport.fail(rc, ar.failed() ? ar.cause() : new SidecarException(ErrorKind.UNAVAILABLE, "endpoint '"
              + model + "' is not ready: its variant '" + target.variantName() + "' is not"), OpenInferenceRestAdapter::error);
        }
      });
      return;
    }
    ctx.runner().modelReady(model, version).onComplete(ar -> {
      if (ar.succeeded() && ar.result()) {
        HttpSupport.ok(rc, new JsonObject().put("name", model).put("ready", true));
      } else if (ar.succeeded()) {
        // not ready: 503 for a model the runner knows (loading, failed), 404 for one it does not
        ctx.catalog().metadata(model, version).onComplete(meta -> HttpSupport.fail(rc,
            meta.failed() && SidecarException.of(meta.cause()).kind() == ErrorKind.NOT_FOUND ? meta.cause()
                : new SidecarException(ErrorKind.UNAVAILABLE, "model '" + model + "' is not ready"),
            OpenInferenceRestAdapter::error));
      } else {
        HttpSupport.fail(rc, ar.cause(), OpenInferenceRestAdapter::error);
      }
    });
  }

  private static void infer(RoutingContext rc, AdapterContext ctx, String version) {
    ModelInferRequest request;
    RouteLayer.Target target;
    try {
      request = parse(rc.pathParam("model"), version, HttpSupport.jsonBody(rc));
      target = ctx.route(rc, request.getModelName(), request.getModelVersion());
    } catch (SidecarException e) {
      HttpSupport.fail(rc, e, OpenInferenceRestAdapter::error);
      return;
    }
    HttpSupport.respond(rc, ctx.infer(rc, PROTOCOL, request, target), OpenInferenceRestAdapter::render,
        OpenInferenceRestAdapter::error);
  }

  static ModelInferRequest parse(String model, String version, JsonObject body) {
    ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(model).setModelVersion(version);
    Object id = body.getValue("id");
    if (id != null) {
      b.setId(String.valueOf(id));
    }
    Object inputs = body.getValue("inputs");
    if (!(inputs instanceof JsonArray list) || list.isEmpty()) {
      throw SidecarException.invalid("'inputs' must be a non-empty array of tensors");
    }
    for (int i = 0; i < list.size(); i++) {
      if (!(list.getValue(i) instanceof JsonObject t)) {
        throw SidecarException.invalid("inputs[" + i + "] must be an object with name, shape, datatype and data");
      }
      String name = text(t, "name", "inputs[" + i + "]");
      String datatype = text(t, "datatype", "input '" + name + "'");
      if (!(t.getValue("shape") instanceof JsonArray shapeJson)) {
        throw SidecarException.invalid("input '" + name + "': 'shape' must be an array of sizes");
      }
      long[] shape = Shapes.parse("input '" + name + "': 'shape'", shapeJson);
      if (!t.containsKey("data")) {
        throw SidecarException.invalid("input '" + name + "' has no 'data'");
      }
      JsonTensors.Flat flat = JsonTensors.flatten("input '" + name + "' data", t.getValue("data"));
      b.addInputs(JsonTensors.tensor(name, datatype, shape, flat.values(), false));
    }
    Object outputs = body.getValue("outputs");
    if (outputs instanceof JsonArray outs) {
      for (int i = 0; i < outs.size(); i++) {
        if (!(outs.getValue(i) instanceof JsonObject o)) {
          throw SidecarException.invalid("outputs[" + i + "] must be an object with a name");
        }
        b.addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder()
            .setName(text(o, "name", "outputs[" + i + "]")));
      }
    } else if (outputs != null) {
      throw SidecarException.invalid("'outputs' must be an array");
    }
    return b.build();
  }

  /** Longest tensor name or datatype taken (names are echoed in errors and sent on to the runner). */
  static final int MAX_TEXT = 256;

  private static String text(JsonObject o, String key, String where) {
    Object v = o.getValue(key);
    if (!(v instanceof String s) || s.isEmpty()) {
      throw SidecarException.invalid(where + ": '" + key + "' must be a non-empty string");
    }
    if (s.length() > MAX_TEXT) {
      throw SidecarException.invalid(where + ": '" + key + "' is " + s.length() + " characters long; at most "
          + MAX_TEXT + " are taken");
    }
    return s;
  }

  static JsonObject render(ModelInferResponse r) {
    JsonArray outputs = new JsonArray();
    for (int i = 0; i < r.getOutputsCount(); i++) {
      ModelInferResponse.InferOutputTensor o = r.getOutputs(i);
      outputs.add(new JsonObject().put("name", o.getName()).put("datatype", o.getDatatype())
          .put("shape", new JsonArray(o.getShapeList())).put("data", new JsonArray(JsonTensors.values(r, i))));
    }
    JsonObject json = new JsonObject().put("model_name", r.getModelName()).put("model_version", r.getModelVersion());
    if (!r.getId().isEmpty()) {
      json.put("id", r.getId());
    }
    return json.put("outputs", outputs);
  }

}
