package dev.gantry.sidecar.adapter.json;

import dev.gantry.proto.inference.ModelInferRequest.InferInputTensor;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.proto.inference.ModelMetadataResponse.TensorMetadata;
import dev.gantry.sidecar.core.SidecarException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Maps tables (named columns, or plain rows) onto a model's input tensors using its metadata.
 *
 * <p>Named columns go to the inputs of the same names (each an {@code [N]} or {@code [N,1]}
 * tensor); or, for a model with one 2-D input, into that input in the order its {@code columns}
 * parameter (an MLflow signature) gives, else in the order they came. Plain rows go to a model's
 * single input as they are, or, for a model whose inputs are all single columns, one value per
 * input in the model's input order.
 */
public final class TabularInputs {
  /** Metadata parameter naming a 2-D input's columns in order. */
  public static final String COLUMNS = "columns";

  private TabularInputs() {}

  /**
   * Named columns to tensors.
   *
   * @param columns column names
   * @param rows one list of cell values per row, in column order
   * @param lenient accept numbers written as strings (CSV)
   */
  public static List<InferInputTensor> fromColumns(ModelMetadataResponse model, List<String> columns,
      List<List<Object>> rows, boolean lenient) {
    if (rows.isEmpty()) {
      throw SidecarException.invalid("the request has no rows");
    }
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < columns.size(); i++) {
      if (index.put(columns.get(i), i) != null) {
        throw SidecarException.invalid("column '" + columns.get(i) + "' appears twice");
      }
    }
    for (int r = 0; r < rows.size(); r++) {
      if (rows.get(r).size() != columns.size()) {
        throw SidecarException.invalid("row " + r + " has " + rows.get(r).size() + " values but there are "
            + columns.size() + " columns " + columns);
      }
    }
    List<String> inputNames = model.getInputsList().stream().map(TensorMetadata::getName).toList();
    if (model.getInputsCount() == 1 && !index.containsKey(inputNames.get(0))
        && model.getInputs(0).getShapeCount() == 2) {
      return List.of(stacked(model.getInputs(0), columns, index, rows, lenient));
    }
    List<InferInputTensor> tensors = new ArrayList<>();
    for (TensorMetadata in : model.getInputsList()) {
      Integer col = index.get(in.getName());
      if (col == null) {
        throw SidecarException.invalid("missing column '" + in.getName() + "'; model '" + model.getName()
            + "' takes columns " + inputNames);
      }
      List<Object> values = new ArrayList<>(rows.size());
      rows.forEach(row -> values.add(row.get(col)));
      tensors.add(JsonTensors.tensor(in.getName(), in.getDatatype(), columnShape(model, in, rows.size()), values,
          lenient));
    }
    for (String c : columns) {
      if (!inputNames.contains(c)) {
        throw SidecarException.invalid("unknown column '" + c + "'; model '" + model.getName() + "' takes columns "
            + inputNames);
      }
    }
    return tensors;
  }

  private static long[] columnShape(ModelMetadataResponse model, TensorMetadata in, int rows) {
    List<Long> shape = in.getShapeList();
    if (shape.size() == 1) {
      return new long[] {rows};
    }
    if (shape.size() == 2 && shape.get(1) == 1) {
      return new long[] {rows, 1};
    }
    throw SidecarException.invalid("input '" + in.getName() + "' of model '" + model.getName() + "' has shape "
        + shape + ", which one column cannot fill; send it as a tensor instead");
  }

  private static InferInputTensor stacked(TensorMetadata in, List<String> columns, Map<String, Integer> index,
      List<List<Object>> rows, boolean lenient) {
    List<Integer> order = new ArrayList<>();
    String declared = in.getParametersMap().containsKey(COLUMNS)
        ? in.getParametersMap().get(COLUMNS).getStringParam() : "";
    if (!declared.isEmpty()) {
      List<String> expected = Arrays.asList(declared.split(","));
      for (String name : expected) {
        Integer col = index.get(name);
        if (col == null) {
          throw SidecarException.invalid("missing column '" + name + "'; the model's signature takes columns "
              + expected);
        }
        order.add(col);
      }
      for (String c : columns) {
        if (!expected.contains(c)) {
          throw SidecarException.invalid("unknown column '" + c + "'; the model's signature takes columns " + expected);
        }
      }
    } else {
      long width = in.getShape(1);
      if (width != -1 && width != columns.size()) {
        throw SidecarException.invalid("input '" + in.getName() + "' takes " + width + " columns, got "
            + columns.size() + " " + columns);
      }
      for (int i = 0; i < columns.size(); i++) {
        order.add(i);
      }
    }
    List<Object> values = new ArrayList<>(rows.size() * order.size());
    for (List<Object> row : rows) {
      for (int col : order) {
        values.add(row.get(col));
      }
    }
    return JsonTensors.tensor(in.getName(), in.getDatatype(), new long[] {rows.size(), order.size()}, values, lenient);
  }

  /**
   * Plain rows (a nested array with no names) to tensors.
   *
   * @param what what the array is called in the protocol, for messages
   */
  public static List<InferInputTensor> fromArray(ModelMetadataResponse model, String what, Object array) {
    JsonTensors.Flat flat = JsonTensors.flatten(what, array);
    if (model.getInputsCount() == 1) {
      TensorMetadata in = model.getInputs(0);
      checkShape(in, flat.shape());
      return List.of(JsonTensors.tensor(in.getName(), in.getDatatype(), flat.shape(), flat.values(), false));
    }
    boolean allColumns = model.getInputsList().stream().allMatch(in -> in.getShapeCount() == 1
        || (in.getShapeCount() == 2 && in.getShape(1) == 1));
    if (allColumns && flat.shape().length == 2 && flat.shape()[1] == model.getInputsCount()) {
      List<String> names = model.getInputsList().stream().map(TensorMetadata::getName).toList();
      List<List<Object>> rows = new ArrayList<>();
      int width = names.size();
      for (int r = 0; r < flat.shape()[0]; r++) {
        rows.add(new ArrayList<>(flat.values().subList(r * width, (r + 1) * width)));
      }
      return fromColumns(model, names, rows, false);
    }
    throw SidecarException.invalid(what + " has shape " + Arrays.toString(flat.shape()) + " but model '"
        + model.getName() + "' takes " + model.getInputsCount() + " inputs " + model.getInputsList().stream()
        .map(i -> i.getName() + i.getShapeList()).toList() + "; send named columns");
  }

  private static void checkShape(TensorMetadata in, long[] shape) {
    List<Long> expected = in.getShapeList();
    boolean ok = expected.size() == shape.length;
    for (int i = 0; ok && i < shape.length; i++) {
      ok = expected.get(i) == -1 || expected.get(i) == shape[i];
    }
    if (!ok) {
      throw SidecarException.invalid("input '" + in.getName() + "': expected shape " + expected
          + " (-1 is any size), got " + Arrays.toString(shape));
    }
  }
}
