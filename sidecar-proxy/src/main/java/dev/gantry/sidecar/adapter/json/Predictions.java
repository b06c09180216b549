package dev.gantry.sidecar.adapter.json;

import dev.gantry.proto.inference.ModelInferResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** The {@code {"predictions": …}} answer MLflow and KServe v1 share. */
public final class Predictions {
  private Predictions() {}

  /**
   * One output: a list with one entry per row. Several outputs: per {@code perRow}, either a list
   * of {output: value} objects (KServe v1) or one {output: rows} object (MLflow, like a DataFrame).
   */
  public static JsonObject of(ModelInferResponse r, boolean perRow) {
    if (r.getOutputsCount() == 1) {
      return new JsonObject().put("predictions", new JsonArray(
          JsonTensors.rows(JsonTensors.values(r, 0), JsonTensors.shape(r.getOutputs(0)))));
    }
    if (!perRow) {
      JsonObject byName = new JsonObject();
      for (int i = 0; i < r.getOutputsCount(); i++) {
        byName.put(r.getOutputs(i).getName(), new JsonArray(
            JsonTensors.rows(JsonTensors.values(r, i), JsonTensors.shape(r.getOutputs(i)))));
      }
      return new JsonObject().put("predictions", byName);
    }
    JsonArray rows = new JsonArray();
    for (int i = 0; i < r.getOutputsCount(); i++) {
      var values = JsonTensors.rows(JsonTensors.values(r, i), JsonTensors.shape(r.getOutputs(i)));
      for (int row = 0; row < values.size(); row++) {
        if (rows.size() <= row) {
          rows.add(new JsonObject());
        }
        rows.getJsonObject(row).put(r.getOutputs(i).getName(), values.get(row));
      }
    }
    return new JsonObject().put("predictions", rows);
  }
}
