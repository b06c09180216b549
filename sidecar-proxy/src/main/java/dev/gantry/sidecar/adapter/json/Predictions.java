package dev.gantry.sidecar.adapter.json;

import dev.gantry.proto.inference.ModelInferResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** The {@code {"predictions": …}} answer MLflow and KServe v1 share. */
public final class Predictions {
  private Predictions() {}

  /**
   * One output: a list with one entry per row. Several outputs: per {@code perRow}, either a list
   * of {output: value} objects (KServe v1) or one {output: rows} object (MLflow, like a DataFrame).
   * Outputs pyfunc omits are left out. An MLflow ONNX model or one with a ZipMap output
   * ({@link PyfuncOutputs#asRecords}) is answered with records, {output: value} per row, as MLflow's ONNX flavor
   * turns its DataFrame into JSON.
   */
  public static JsonObject of(ModelInferResponse r, boolean perRow, PyfuncOutputs pyfunc) {
    return of(r, perRow, pyfunc, false);
  }

  /**
   * As {@link #of(ModelInferResponse, boolean, PyfuncOutputs)}; {@code tensorInput} says the request was not a
   * DataFrame (MLflow's {@code instances} or {@code inputs}): MLflow's ONNX flavor then answers a dict of arrays by
   * output name ({@code {"predictions": {output: rows}}}) instead of DataFrame records.
   */
  public static JsonObject of(ModelInferResponse r, boolean perRow, PyfuncOutputs pyfunc, boolean tensorInput) {
    List<String> names = new ArrayList<>();
    List<List<Object>> columns = new ArrayList<>();
    // a DataFrame's columns hold one value a row; a dict of arrays keeps each output's rows as they are
    boolean dataFrame = pyfunc.asRecords() && (perRow || !tensorInput);
    for (int i = 0; i < r.getOutputsCount(); i++) {
      String name = r.getOutputs(i).getName();
      if (pyfunc.shows(name)) {
        names.add(name);
        columns.add(pyfunc.rows(name, JsonTensors.rows(JsonTensors.values(r, i), JsonTensors.shape(r.getOutputs(i))),
            dataFrame));
      }
    }
    if (names.size() == 1 && !pyfunc.asRecords()) {
      return new JsonObject().put("predictions", new JsonArray(columns.get(0)));
    }
    if (!perRow && (!pyfunc.asRecords() || tensorInput)) {
      JsonObject byName = new JsonObject();
      for (int i = 0; i < names.size(); i++) {
        byName.put(names.get(i), new JsonArray(columns.get(i)));
      }
      return new JsonObject().put("predictions", byName);
    }
    JsonArray rows = new JsonArray();
    for (int i = 0; i < names.size(); i++) {
      List<Object> values = columns.get(i);
      for (int row = 0; row < values.size(); row++) {
        if (rows.size() <= row) {
          rows.add(new JsonObject());
        }
        rows.getJsonObject(row).put(names.get(i), values.get(row));
      }
    }
    return new JsonObject().put("predictions", rows);
  }
}
