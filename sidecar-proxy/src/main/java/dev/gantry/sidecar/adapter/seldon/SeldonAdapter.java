package dev.gantry.sidecar.adapter.seldon;

import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferRequest.InferInputTensor;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.sidecar.adapter.AdapterContext;
import dev.gantry.sidecar.adapter.HttpSupport;
import dev.gantry.sidecar.adapter.ProtocolAdapter;
import dev.gantry.sidecar.adapter.json.JsonTensors;
import dev.gantry.sidecar.adapter.json.Shapes;
import dev.gantry.sidecar.adapter.json.TabularInputs;
import dev.gantry.sidecar.core.SidecarException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;

/**
 * Seldon Core's prediction API: {@code POST /api/v1.0/predictions} (the default model) and, at
 * Seldon's ingress path, {@code /seldon/{namespace}/{model}/api/v1.0/predictions}. Takes a
 * SeldonMessage with {@code data.ndarray} or {@code data.tensor} and optional {@code data.names};
 * answers a SeldonMessage in the same form, with {@code meta}; errors are Seldon's {@code status}.
 */
public final class SeldonAdapter implements ProtocolAdapter {
  static final String PROTOCOL = "seldon";

  @Override
  public String protocol() {
    return PROTOCOL;
  }

  static JsonObject error(SidecarException e) {
    int code = e.kind().httpStatus();
    return new JsonObject().put("status", new JsonObject()
        .put("code", code)
        .put("info", e.getMessage())
        .put("reason", code < 500 ? "MICROSERVICE_BAD_DATA" : "MICROSERVICE_INTERNAL_ERROR")
        .put("status", "FAILURE"));
  }

  @Override
  public void mount(Router router, AdapterContext ctx) {
    ctx.predict(router.post("/api/v1.0/predictions"), PROTOCOL, ctx.defaultTarget(), rc -> {
      try {
        predict(rc, ctx, ctx.requireDefaultModel());
      } catch (SidecarException e) {
        HttpSupport.fail(rc, e, SeldonAdapter::error);
      }
    });
    ctx.predict(router.post("/seldon/:namespace/:model/api/v1.0/predictions"), PROTOCOL,
        AdapterContext.modelParam("model"), rc -> predict(rc, ctx, rc.pathParam("model")));
    router.route("/api/v1.0/*").failureHandler(HttpSupport.failureHandler(SeldonAdapter::error));
    router.route("/seldon/*").failureHandler(HttpSupport.failureHandler(SeldonAdapter::error));
  }

  private static void predict(RoutingContext rc, AdapterContext ctx, String model) {
    JsonObject body;
    try {
      body = HttpSupport.jsonBody(rc);
    } catch (SidecarException e) {
      HttpSupport.fail(rc, e, SeldonAdapter::error);
      return;
    }
    HttpSupport.respond(rc, ctx.inferPinned(rc, PROTOCOL, model,
        meta -> ModelInferRequest.newBuilder().addAllInputs(inputs(meta, body))),
        r -> render(r, body, HttpSupport.requestId(rc), routing(AdapterContext.target(rc))), SeldonAdapter::error);
  }

  /**
   * Seldon's {@code meta.routing}: the router (the endpoint) to the index of the child (variant) it chose, as Seldon
   * Core writes it; empty for a request that called no endpoint.
   */
  static JsonObject routing(dev.gantry.sidecar.routing.RouteLayer.Target target) {
    JsonObject routing = new JsonObject();
    if (target != null) {
      target.assignment().ifPresent(a -> routing.put(a.endpoint().name(), a.endpoint().variants().indexOf(a.variant())));
    }
    return routing;
  }

  static List<InferInputTensor> inputs(ModelMetadataResponse meta, JsonObject body) {
    if (!(body.getValue("data") instanceof JsonObject data)) {
      throw SidecarException.invalid("a SeldonMessage needs 'data' with 'ndarray' or 'tensor'"
          + (body.containsKey("strData") || body.containsKey("jsonData") || body.containsKey("binData")
              ? "; strData, jsonData and binData are not served" : ""));
    }
    Object array;
    if (data.getValue("ndarray") instanceof JsonArray ndarray) {
      array = ndarray;
    } else if (data.getValue("tensor") instanceof JsonObject tensor) {
      array = fromTensor(tensor);
    } else {
      throw SidecarException.invalid("'data' needs 'ndarray' (nested array) or 'tensor' (shape and values)");
    }
    if (data.getValue("names") instanceof JsonArray names && !names.isEmpty()) {
      JsonTensors.Flat flat = JsonTensors.flatten("'data'", array);
      if (flat.shape().length != 2 || flat.shape()[1] != names.size()) {
        throw SidecarException.invalid("'data.names' has " + names.size() + " names but the data has shape "
            + java.util.Arrays.toString(flat.shape()) + "; give one name per column");
      }
      List<String> columns = new ArrayList<>();
      names.forEach(n -> columns.add(String.valueOf(n)));
      List<List<Object>> rows = new ArrayList<>();
      int width = columns.size();
      for (int r = 0; r < flat.shape()[0]; r++) {
        rows.add(new ArrayList<>(flat.values().subList(r * width, (r + 1) * width)));
      }
      return TabularInputs.fromColumns(meta, columns, rows, false);
    }
    return TabularInputs.fromArray(meta, "'data'", array);
  }

  private static Object fromTensor(JsonObject tensor) {
    if (!(tensor.getValue("shape") instanceof JsonArray shapeJson)
        || !(tensor.getValue("values") instanceof JsonArray values)) {
      throw SidecarException.invalid("'data.tensor' needs 'shape' and 'values'");
    }
    long[] shape = Shapes.parse("'data.tensor.shape'", shapeJson);
    Shapes.check("'data.tensor'", shape, values.size());
    for (int i = 0; i < values.size(); i++) {
      if (values.getValue(i) instanceof JsonArray || values.getValue(i) instanceof JsonObject) {
        throw SidecarException.invalid("'data.tensor.values' element " + i + " is not a single value; 'values'"
            + " is flat, and 'shape' nests it");
      }
    }
    return JsonTensors.nest(values.getList(), shape);
  }

  static JsonObject render(ModelInferResponse r, JsonObject request, String requestId, JsonObject routing) {
    List<Object> values = JsonTensors.values(r, 0);
    long[] shape = JsonTensors.shape(r.getOutputs(0));
    JsonArray names = new JsonArray();
    if (shape.length == 2) {
      for (int i = 0; i < shape[1]; i++) {
        names.add("t:" + i);
      }
    }
    JsonObject data = new JsonObject().put("names", names);
    JsonObject requestData = request.getJsonObject("data");
    if (requestData.containsKey("tensor")) {
      JsonArray shapeJson = new JsonArray();
      for (long d : shape) {
        shapeJson.add(d);
      }
      data.put("tensor", new JsonObject().put("shape", shapeJson).put("values", new JsonArray(values)));
    } else {
      data.put("ndarray", JsonTensors.nest(values, shape));
    }
    JsonObject requestMeta = request.getValue("meta") instanceof JsonObject m ? m : new JsonObject();
    JsonObject meta = new JsonObject()
        .put("puid", requestMeta.getValue("puid") == null ? requestId : String.valueOf(requestMeta.getValue("puid")))
        .put("tags", requestMeta.getValue("tags") instanceof JsonObject t ? t : new JsonObject())
        .put("routing", routing)
        .put("requestPath", new JsonObject().put(r.getModelName(), "gantry:" + r.getModelVersion()))
        .put("metrics", new JsonArray());
    return new JsonObject().put("data", data).put("meta", meta);
  }
}
