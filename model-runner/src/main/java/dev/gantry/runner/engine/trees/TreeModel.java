package dev.gantry.runner.engine.trees;

import dev.gantry.runner.engine.EngineModel;
import dev.gantry.runner.engine.LoadedModel;
import dev.gantry.runner.inference.ErrorKind;
import dev.gantry.runner.inference.InferenceException;
import dev.gantry.runner.inference.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * A tree model run in-process: each instance holds its own native booster, so that instances
 * never share one across threads.
 */
final class TreeModel implements EngineModel {
  private final TreeLibrary library;
  private final TreeOutputs outputs;

  TreeModel(TreeLibrary library, TreeOutputs outputs) {
    this.library = library;
    this.outputs = outputs;
  }

  @Override
  public String engineName() {
    return library.engineName();
  }

  @Override
  public Instance newInstance() {
    TreeLibrary.Predictor predictor = library.newPredictor();
    return new Instance() {
      @Override
      public List<Tensor> run(List<Tensor> inputs) {
        Tensor features = inputs.get(0);
        int rows = Math.toIntExact(features.rows());
        double[] predicted;
        try {
          predicted = predictor.predict(floats(features), rows);
        } catch (Exception | LinkageError e) {
          throw new InferenceException(ErrorKind.INTERNAL, library.engineName() + " failed: "
              + LoadedModel.engineMessage(e), e);
        }
        return outputs.tensors(predicted, rows);
      }

      @Override
      public void close() {
        predictor.close();
      }
    };
  }

  @Override
  public void close() {
    // each instance frees its own booster
  }

  private static float[] floats(Tensor t) {
    float[] values = new float[Math.toIntExact(t.elementCount())];
    ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
    return values;
  }
}
