package dev.gantry.sidecar.adapter.json;

import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.proto.inference.ModelMetadataResponse.TensorMetadata;
import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.SidecarException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How MLflow's pyfunc shows a model's outputs, from the runner's output parameters: {@value #PYFUNC}
 * {@value #ZIPMAP} makes each row of a probabilities output a map from class label (the
 * {@value #CLASSES} parameter, in column order) to probability, as a ZipMap output of an
 * skl2onnx graph comes out of ONNX Runtime in Python; {@value #COLUMN} marks an output of an MLflow ONNX model;
 * {@value #OMIT} leaves the output out of MLflow and KServe v1 answers (v2 REST and gRPC still return it). A model
 * with {@value #ZIPMAP} or {@value #COLUMN} outputs is answered as MLflow's ONNX flavor answers: a DataFrame with one
 * record per row, one field per output; tensor input with arrays by output name (see {@link Predictions}).
 */
public final class PyfuncOutputs {
  /** Output parameter: how pyfunc shows the output. */
  public static final String PYFUNC = "pyfunc";
  /** Output parameter: the class labels of a probabilities output's columns, as a JSON array. */
  public static final String CLASSES = "classes";
  public static final String ZIPMAP = "zipmap";
  /**
   * The output is a column of the DataFrame MLflow's ONNX flavor answers a DataFrame with: one value per row (a
   * {@code [N, 1]} output's rows become scalars, as its {@code format_output} flattens them).
   */
  public static final String COLUMN = "column";
  public static final String OMIT = "omit";
  /** For models that declare nothing: every output shown as it is. */
  public static final PyfuncOutputs NONE = new PyfuncOutputs(Map.of(), Map.of());

  private final Map<String, String> shown;
  private final Map<String, List<String>> keys;

  private PyfuncOutputs(Map<String, String> shown, Map<String, List<String>> keys) {
    this.shown = Map.copyOf(shown);
    this.keys = Map.copyOf(keys);
  }

  /** Reads the outputs' parameters; a parameter the runner wrote wrongly is a 500 naming it. */
  public static PyfuncOutputs of(ModelMetadataResponse model) {
    // read on every MLflow and KServe v1 request: most models declare nothing, and get the shared instance
    if (model.getOutputsList().stream().noneMatch(o -> o.getParametersMap().containsKey(PYFUNC))) {
      return NONE;
    }
    Map<String, String> shown = new HashMap<>();
    Map<String, List<String>> keys = new HashMap<>();
    for (TensorMetadata out : model.getOutputsList()) {
      if (!out.getParametersMap().containsKey(PYFUNC)) {
        continue;
      }
      String how = out.getParametersMap().get(PYFUNC).getStringParam();
      if (!how.equals(ZIPMAP) && !how.equals(OMIT) && !how.equals(COLUMN)) {
        throw internal(model, out, "has pyfunc '" + how + "'; expected '" + ZIPMAP + "', '" + COLUMN + "' or '"
            + OMIT + "'");
      }
      shown.put(out.getName(), how);
      if (how.equals(ZIPMAP)) {
        keys.put(out.getName(), classKeys(model, out));
      }
    }
    return new PyfuncOutputs(shown, keys);
  }

  /** Class labels as pandas/JSON key them: numbers and strings as their text. */
  private static List<String> classKeys(ModelMetadataResponse model, TensorMetadata out) {
    String text = out.getParametersMap().containsKey(CLASSES)
        ? out.getParametersMap().get(CLASSES).getStringParam() : "";
    JsonArray classes;
    try {
      classes = new JsonArray(text);
    } catch (DecodeException e) {
      throw internal(model, out, "has pyfunc 'zipmap' but its classes parameter is not a JSON array: " + text);
    }
    List<String> keys = new ArrayList<>();
    classes.forEach(c -> keys.add(String.valueOf(c)));
    return keys;
  }

  private static SidecarException internal(ModelMetadataResponse model, TensorMetadata out, String what) {
    return new SidecarException(ErrorKind.INTERNAL, "output '" + out.getName() + "' of model '" + model.getName()
        + "' " + what);
  }

  /**
   * Whether pyfunc answers this model with a DataFrame (one record per row) when it is given one: an MLflow ONNX
   * model (outputs marked {@value #COLUMN}), and any ONNX model with a ZipMap output.
   * A model whose outputs are only omitted (a tree model's pyfunc returns one array) is answered as usual with
   * what remains.
   */
  public boolean asRecords() {
    return shown.containsValue(ZIPMAP) || shown.containsValue(COLUMN);
  }

  /** Whether the output is part of MLflow and KServe v1 answers. */
  public boolean shows(String output) {
    return !OMIT.equals(shown.get(output));
  }

  /**
   * The output's rows as pyfunc shows them: for a zipmap output, one {label: probability} object a row; in a
   * DataFrame ({@code dataFrame}), a {@value #COLUMN} output's one-value rows as that value.
   */
  public List<Object> rows(String output, List<Object> rows, boolean dataFrame) {
    List<String> labels = keys.get(output);
    if (labels == null) {
      if (!dataFrame || !COLUMN.equals(shown.get(output))) {
        return rows;
      }
      List<Object> flat = new ArrayList<>(rows.size());
      for (Object row : rows) {
        flat.add(row instanceof JsonArray one && one.size() == 1 ? one.getValue(0) : row);
      }
      return flat;
    }
    List<Object> maps = new ArrayList<>(rows.size());
    for (Object row : rows) {
      if (!(row instanceof JsonArray values) || values.size() != labels.size()) {
        throw new SidecarException(ErrorKind.INTERNAL, "output '" + output + "' has rows of "
            + (row instanceof JsonArray a ? a.size() + " values" : "one value") + " but its classes parameter lists "
            + labels.size() + " classes " + labels);
      }
      JsonObject map = new JsonObject();
      for (int i = 0; i < labels.size(); i++) {
        map.put(labels.get(i), values.getValue(i));
      }
      maps.add(map);
    }
    return maps;
  }
}
