package dev.gantry.runner.engine.trees;

import static dev.gantry.runner.repository.MlflowModel.CLASSES_PARAMETER;
import static dev.gantry.runner.repository.MlflowModel.PYFUNC_OMIT;
import static dev.gantry.runner.repository.MlflowModel.PYFUNC_PARAMETER;

import dev.gantry.runner.engine.trees.TreeFacts.Objective;
import dev.gantry.runner.inference.DataType;
import dev.gantry.runner.inference.Tensor;
import dev.gantry.runner.inference.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A tree model's outputs, and how they are made from its library's predictions. A classifier gives
 * {@code label} [N] and {@code probabilities} [N, classes] (with the {@code classes} parameter);
 * anything else gives {@code predictions} [N] (or [N, width]). What MLflow's pyfunc answers is shown
 * in MLflow answers and the rest marked {@code pyfunc: omit}: a scikit-learn-API classifier answers
 * its labels, a raw Booster its {@code predict} (P(class 1) for a binary objective, the
 * probabilities for a multiclass one).
 */
final class TreeOutputs {
  static final String LABEL = "label";
  static final String PROBABILITIES = "probabilities";
  static final String PREDICTIONS = "predictions";
  private static final Map<String, String> OMIT = Map.of(PYFUNC_PARAMETER, PYFUNC_OMIT);

  private final TreeFacts facts;
  private final int width;
  private final DataType type;
  private final List<TensorSpec> specs;
  private final long[] labels;

  /**
   * @param width values the library predicts per row
   * @param type the datatype of its predictions
   * @param batches whether the model batches (dims then leave out the batch dimension)
   */
  TreeOutputs(TreeFacts facts, int width, DataType type, boolean batches) {
    facts = fits(facts, width) ? facts : new TreeFacts(facts.features(), Objective.OTHER, List.of(), false);
    this.facts = facts;
    this.width = width;
    this.type = type;
    this.labels = labelValues(facts);
    this.specs = specs(facts, width, type, batches);
  }

  /** Whether the predictions have the width the objective implies; if not, they are shown as they are. */
  private static boolean fits(TreeFacts facts, int width) {
    return switch (facts.objective()) {
      case BINARY -> width == 1;
      case MULTICLASS -> width == facts.classLabels().size();
      case OTHER -> true;
    };
  }

  List<TensorSpec> specs() {
    return specs;
  }

  /** The output tensors, in {@link #specs()} order, for {@code rows} rows of predictions. */
  List<Tensor> tensors(double[] predicted, int rows) {
    List<Tensor> out = new ArrayList<>(specs.size());
    for (TensorSpec spec : specs) {
      out.add(switch (spec.name()) {
        case LABEL -> longs(LABEL, new long[] {rows}, labels(predicted, rows));
        case PROBABILITIES -> values(PROBABILITIES, new long[] {rows, labels.length}, probabilities(predicted, rows));
        default -> values(PREDICTIONS, width == 1 ? new long[] {rows} : new long[] {rows, width}, predicted);
      });
    }
    return out;
  }

  private static List<TensorSpec> specs(TreeFacts facts, int width, DataType type, boolean batches) {
    List<TensorSpec> specs = new ArrayList<>();
    int classes = facts.classLabels().size();
    Map<String, String> classesParam = Map.of(CLASSES_PARAMETER, "[" + String.join(",", facts.classLabels()) + "]");
    if (facts.objective() == Objective.OTHER) {
      specs.add(spec(PREDICTIONS, type, width == 1 ? new long[0] : new long[] {width}, batches, Map.of()));
    } else if (facts.sklearnClassifier()) {
      specs.add(spec(LABEL, DataType.INT64, new long[0], batches, Map.of()));
      specs.add(spec(PROBABILITIES, type, new long[] {classes}, batches, merge(classesParam, OMIT)));
    } else if (facts.objective() == Objective.BINARY) {
      specs.add(spec(PREDICTIONS, type, new long[0], batches, Map.of()));
      specs.add(spec(LABEL, DataType.INT64, new long[0], batches, OMIT));
      specs.add(spec(PROBABILITIES, type, new long[] {classes}, batches, merge(classesParam, OMIT)));
    } else {
      specs.add(spec(PROBABILITIES, type, new long[] {classes}, batches, classesParam));
      specs.add(spec(LABEL, DataType.INT64, new long[0], batches, OMIT));
    }
    return List.copyOf(specs);
  }

  private static TensorSpec spec(String name, DataType type, long[] dims, boolean batches, Map<String, String> params) {
    long[] full = dims;
    if (!batches) {
      full = new long[dims.length + 1];
      full[0] = -1;
      System.arraycopy(dims, 0, full, 1, dims.length);
    }
    return new TensorSpec(name, type, full, params);
  }

  private static Map<String, String> merge(Map<String, String> a, Map<String, String> b) {
    Map<String, String> m = new java.util.HashMap<>(a);
    m.putAll(b);
    return m;
  }

  /** The label each class column stands for: its integer label, or its index when labels are not integers. */
  private static long[] labelValues(TreeFacts facts) {
    long[] values = new long[facts.classLabels().size()];
    for (int i = 0; i < values.length; i++) {
      try {
        values[i] = Long.parseLong(facts.classLabels().get(i));
      } catch (NumberFormatException e) {
        values[i] = i;
      }
    }
    return values;
  }

  private double[] probabilities(double[] predicted, int rows) {
    if (facts.objective() == Objective.MULTICLASS) {
      return predicted;
    }
    double[] p = new double[rows * 2];
    for (int r = 0; r < rows; r++) {
      p[2 * r] = 1.0 - predicted[r];
      p[2 * r + 1] = predicted[r];
    }
    return p;
  }

  /** As the scikit-learn API predicts: above one half for a binary model, the most probable class otherwise. */
  private long[] labels(double[] predicted, int rows) {
    long[] out = new long[rows];
    int classes = labels.length;
    for (int r = 0; r < rows; r++) {
      int best = 0;
      if (facts.objective() == Objective.BINARY) {
        best = predicted[r] > 0.5 ? 1 : 0;
      } else {
        for (int c = 1; c < classes; c++) {
          if (predicted[r * classes + c] > predicted[r * classes + best]) {
            best = c;
          }
        }
      }
      out[r] = labels[best];
    }
    return out;
  }

  private Tensor values(String name, long[] shape, double[] values) {
    ByteBuffer buf = ByteBuffer.allocate(values.length * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (double v : values) {
      if (type == DataType.FP32) {
        buf.putFloat((float) v);
      } else {
        buf.putDouble(v);
      }
    }
    return Tensor.ofBytes(name, type, shape, buf.array());
  }

  private static Tensor longs(String name, long[] shape, long[] values) {
    ByteBuffer buf = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      buf.putLong(v);
    }
    return Tensor.ofBytes(name, DataType.INT64, shape, buf.array());
  }
}
