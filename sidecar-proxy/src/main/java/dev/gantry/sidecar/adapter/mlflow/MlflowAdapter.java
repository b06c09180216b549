package dev.gantry.sidecar.adapter.mlflow;

import dev.gantry.proto.inference.InferParameter;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferRequest.InferInputTensor;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.sidecar.adapter.AdapterContext;
import dev.gantry.sidecar.adapter.HttpSupport;
import dev.gantry.sidecar.adapter.ProtocolAdapter;
import dev.gantry.sidecar.adapter.json.JsonTensors;
import dev.gantry.sidecar.adapter.json.Predictions;
import dev.gantry.sidecar.adapter.json.PyfuncOutputs;
import dev.gantry.sidecar.adapter.json.TabularInputs;
import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.SidecarException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * MLflow's scoring server: {@code POST /invocations} with {@code dataframe_split},
 * {@code dataframe_records}, {@code instances}, {@code inputs} or {@code text/csv}; {@code /ping},
 * {@code /health}, {@code /version}. Answers {@code {"predictions": …}}, shaped as pyfunc shows
 * the model's outputs ({@link PyfuncOutputs}); errors are MLflow's {@code {"error_code": …, "message": …}}.
 */
public final class MlflowAdapter implements ProtocolAdapter {
  static final String PROTOCOL = "mlflow";
  private static final Set<String> FORMATS = Set.of("dataframe_split", "dataframe_records", "instances", "inputs");

  @Override
  public String protocol() {
    return PROTOCOL;
  }

  static JsonObject error(SidecarException e) {
    String code = switch (e.kind()) {
      case INVALID_ARGUMENT, UNSUPPORTED_MEDIA_TYPE, PAYLOAD_TOO_LARGE -> "BAD_REQUEST";
      case NOT_FOUND -> "RESOURCE_DOES_NOT_EXIST";
      case RESOURCE_EXHAUSTED -> "REQUEST_LIMIT_EXCEEDED";
      case UNAVAILABLE -> "TEMPORARILY_UNAVAILABLE";
      case DEADLINE_EXCEEDED -> "DEADLINE_EXCEEDED";
      case INTERNAL -> "INTERNAL_ERROR";
      case CANCELLED -> "CANCELLED";
    };
    return new JsonObject().put("error_code", code).put("message", e.getMessage());
  }

  @Override
  public void mount(Router router, AdapterContext ctx) {
    router.get("/ping").handler(rc -> health(rc, ctx));
    router.get("/health").handler(rc -> health(rc, ctx));
    router.get("/version").handler(rc -> rc.response().putHeader("content-type", "text/plain")
        .end(ctx.serverVersion()));
    ctx.predict(router.post("/invocations"), PROTOCOL, ctx.defaultTarget(), rc -> invoke(rc, ctx));
    for (String p : List.of("/ping", "/health", "/version", "/invocations")) {
      router.route(p).failureHandler(HttpSupport.failureHandler(MlflowAdapter::error));
    }
  }

  private static void health(RoutingContext rc, AdapterContext ctx) {
    if (ctx.health().ready()) {
      rc.response().putHeader("content-type", "application/json").end("\n");
    } else {
      HttpSupport.fail(rc, new SidecarException(ErrorKind.UNAVAILABLE, "not ready: " + ctx.health().reason()),
          MlflowAdapter::error);
    }
  }

  private static void invoke(RoutingContext rc, AdapterContext ctx) {
    String model;
    String type;
    try {
      model = ctx.requireDefaultModel();
      type = HttpSupport.requireStrictContentType(rc, "application/json", "text/csv");
    } catch (SidecarException e) {
      HttpSupport.fail(rc, e, MlflowAdapter::error);
      return;
    }
    // the answer is rendered by the metadata the request was built from (the version it is pinned to)
    AtomicReference<PyfuncOutputs> pyfunc = new AtomicReference<>(PyfuncOutputs.NONE);
    // MLflow's tensor input (instances, inputs) rather than a DataFrame: set when the body is read
    java.util.concurrent.atomic.AtomicBoolean tensorInput = new java.util.concurrent.atomic.AtomicBoolean();
    HttpSupport.respond(rc, ctx.inferPinned(rc, PROTOCOL, model, meta -> {
      pyfunc.set(PyfuncOutputs.of(meta));
      return request(meta, rc, type, tensorInput);
    }), r -> Predictions.of(r, false, pyfunc.get(), tensorInput.get()), MlflowAdapter::error);
  }

  private static ModelInferRequest.Builder request(ModelMetadataResponse meta, RoutingContext rc, String type,
      java.util.concurrent.atomic.AtomicBoolean tensorInput) {
    ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(meta.getName());
    if (type.equals("text/csv")) {
      String text = rc.body() == null || rc.body().buffer() == null ? "" : rc.body().asString();
      Csv.Table table = Csv.parse(text);
      return b.addAllInputs(TabularInputs.fromColumns(meta, table.header(), table.rows(), true));
    }
    JsonObject body = HttpSupport.jsonBody(rc);
    List<String> present = body.fieldNames().stream().filter(FORMATS::contains).toList();
    if (present.size() != 1) {
      throw SidecarException.invalid("the body must have exactly one of " + FORMATS.stream().sorted().toList()
          + (present.isEmpty() ? "" : "; it has " + present));
    }
    for (String key : body.fieldNames()) {
      if (!FORMATS.contains(key) && !key.equals("params")) {
        throw SidecarException.invalid("unknown field '" + key + "'; expected one of "
            + FORMATS.stream().sorted().toList() + " and optionally 'params'");
      }
    }
    if (body.getValue("params") instanceof JsonObject params) {
      params.forEach(e -> b.putParameters(e.getKey(), InferParameter.newBuilder()
          .setStringParam(String.valueOf(e.getValue())).build()));
    }
    String format = present.get(0);
    tensorInput.set(format.equals("instances") || format.equals("inputs"));
    Object value = body.getValue(format);
    return b.addAllInputs(switch (format) {
      case "dataframe_split" -> split(meta, value);
      case "dataframe_records" -> records(meta, value, "dataframe_records");
      case "instances" -> instances(meta, value);
      default -> inputs(meta, value);
    });
  }

  private static List<InferInputTensor> split(ModelMetadataResponse meta, Object value) {
    if (!(value instanceof JsonObject split) || !(split.getValue("data") instanceof JsonArray data)) {
      throw SidecarException.invalid("'dataframe_split' must be an object with 'columns' and 'data'");
    }
    if (!(split.getValue("columns") instanceof JsonArray columns)) {
      return TabularInputs.fromArray(meta, "'dataframe_split.data'", data);
    }
    List<String> names = new ArrayList<>();
    columns.forEach(c -> names.add(String.valueOf(c)));
    List<List<Object>> rows = new ArrayList<>();
    for (int r = 0; r < data.size(); r++) {
      if (!(data.getValue(r) instanceof JsonArray row)) {
        throw SidecarException.invalid("'dataframe_split.data' row " + r + " must be an array");
      }
      rows.add(new ArrayList<>(row.getList()));
    }
    return TabularInputs.fromColumns(meta, names, rows, false);
  }

  private static List<InferInputTensor> records(ModelMetadataResponse meta, Object value, String what) {
    if (!(value instanceof JsonArray records) || records.isEmpty()) {
      throw SidecarException.invalid("'" + what + "' must be a non-empty array of objects");
    }
    List<String> names = null;
    List<List<Object>> rows = new ArrayList<>();
    for (int r = 0; r < records.size(); r++) {
      if (!(records.getValue(r) instanceof JsonObject rec)) {
        throw SidecarException.invalid("'" + what + "' element " + r + " must be an object of column: value");
      }
      if (names == null) {
        names = new ArrayList<>(rec.fieldNames());
      } else if (!rec.fieldNames().equals(Set.copyOf(names))) {
        throw SidecarException.invalid("'" + what + "' element " + r + " has columns " + rec.fieldNames()
            + " but element 0 has " + names);
      }
      List<Object> row = new ArrayList<>();
      for (String n : names) {
        row.add(rec.getValue(n));
      }
      rows.add(row);
    }
    return TabularInputs.fromColumns(meta, names, rows, false);
  }

  private static List<InferInputTensor> instances(ModelMetadataResponse meta, Object value) {
    if (value instanceof JsonArray a && !a.isEmpty() && a.getValue(0) instanceof JsonObject) {
      return records(meta, value, "instances");
    }
    return TabularInputs.fromArray(meta, "'instances'", value);
  }

  private static List<InferInputTensor> inputs(ModelMetadataResponse meta, Object value) {
    if (!(value instanceof JsonObject named)) {
      return TabularInputs.fromArray(meta, "'inputs'", value);
    }
    List<InferInputTensor> tensors = new ArrayList<>();
    for (Map.Entry<String, Object> e : named) {
      var spec = meta.getInputsList().stream().filter(i -> i.getName().equals(e.getKey())).findFirst()
          .orElseThrow(() -> SidecarException.invalid("unknown input '" + e.getKey() + "'; model '" + meta.getName()
              + "' takes " + meta.getInputsList().stream().map(i -> i.getName()).toList()));
      JsonTensors.Flat flat = JsonTensors.flatten("input '" + e.getKey() + "'", e.getValue());
      long[] shape = flat.shape();
      if (shape.length == 1 && spec.getShapeCount() == 2 && spec.getShape(1) == 1) {
        // a plain list for a column input [-1, 1], as MLflow's own examples send it
        shape = new long[] {shape[0], 1};
      }
      tensors.add(JsonTensors.tensor(e.getKey(), spec.getDatatype(), shape, flat.values(), false));
    }
    return tensors;
  }
}
