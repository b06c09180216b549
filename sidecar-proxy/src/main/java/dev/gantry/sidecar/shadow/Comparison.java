package dev.gantry.sidecar.shadow;

import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.sidecar.adapter.json.JsonTensors;
import java.util.List;
import java.util.Objects;

/**
 * How a shadow's answer differs from the primary's, output by output: matched by name, or by position when the two
 * models name their outputs differently (a model and its MLflow copy often do) but have as many.
 *
 * <ul>
 *   <li><b>agree</b>: for outputs shaped like class scores ({@code [..., C]} with C ≥ 2), the top class of every row
 *       is the same; for other outputs every value is within {@value #TOLERANCE} (numbers) or equal (others). Outputs
 *       of different names, shapes or datatypes never agree.
 *   <li><b>max / mean absolute difference</b> over every numeric element of the matched outputs.
 * </ul>
 *
 * @param comparable whether the two answers had the same outputs, shapes and datatypes
 * @param agree whether they agree (false when not comparable)
 * @param maxAbsDifference largest absolute difference of any numeric element (NaN when not comparable)
 * @param meanAbsDifference mean absolute difference over the numeric elements (NaN when not comparable)
 */
public record Comparison(boolean comparable, boolean agree, double maxAbsDifference, double meanAbsDifference) {
  /** Numbers closer than this are the same answer. */
  static final double TOLERANCE = 1e-6;
  private static final Comparison INCOMPARABLE = new Comparison(false, false, Double.NaN, Double.NaN);

  /** Compares a shadow's answer with the primary's. */
  public static Comparison of(ModelInferResponse primary, ModelInferResponse shadow) {
    boolean agree = true;
    double max = 0;
    double sum = 0;
    long count = 0;
    for (int i = 0; i < primary.getOutputsCount(); i++) {
      ModelInferResponse.InferOutputTensor p = primary.getOutputs(i);
      int j = indexOf(shadow, p.getName());
      if (j < 0 && primary.getOutputsCount() == shadow.getOutputsCount()) {
        j = i;
      }
      if (j < 0) {
        return INCOMPARABLE;
      }
      ModelInferResponse.InferOutputTensor s = shadow.getOutputs(j);
      if (!p.getShapeList().equals(s.getShapeList()) || !p.getDatatype().equals(s.getDatatype())) {
        return INCOMPARABLE;
      }
      List<Object> a = JsonTensors.values(primary, i);
      List<Object> b = JsonTensors.values(shadow, j);
      if (a.size() != b.size()) {
        return INCOMPARABLE;
      }
      boolean numeric = !a.isEmpty() && a.get(0) instanceof Number;
      for (int k = 0; k < a.size(); k++) {
        if (numeric) {
          double d = Math.abs(((Number) a.get(k)).doubleValue() - ((Number) b.get(k)).doubleValue());
          max = Math.max(max, d);
          sum += d;
          count++;
        }
      }
      long classes = p.getShapeCount() >= 2 ? p.getShape(p.getShapeCount() - 1) : 0;
      if (numeric && classes >= 2) {
        agree &= sameTopClasses(a, b, (int) classes);
      } else if (numeric) {
        for (int k = 0; k < a.size() && agree; k++) {
          agree = Math.abs(((Number) a.get(k)).doubleValue() - ((Number) b.get(k)).doubleValue()) <= TOLERANCE;
        }
      } else {
        agree &= Objects.equals(a, b);
      }
    }
    if (primary.getOutputsCount() != shadow.getOutputsCount()) {
      return INCOMPARABLE;
    }
    return new Comparison(true, agree, max, count == 0 ? 0 : sum / count);
  }

  private static boolean sameTopClasses(List<Object> a, List<Object> b, int classes) {
    for (int row = 0; row + classes <= a.size(); row += classes) {
      if (argmax(a, row, classes) != argmax(b, row, classes)) {
        return false;
      }
    }
    return true;
  }

  private static int argmax(List<Object> values, int from, int count) {
    int best = 0;
    for (int c = 1; c < count; c++) {
      if (((Number) values.get(from + c)).doubleValue() > ((Number) values.get(from + best)).doubleValue()) {
        best = c;
      }
    }
    return best;
  }

  private static int indexOf(ModelInferResponse r, String name) {
    for (int i = 0; i < r.getOutputsCount(); i++) {
      if (r.getOutputs(i).getName().equals(name)) {
        return i;
      }
    }
    return -1;
  }
}
