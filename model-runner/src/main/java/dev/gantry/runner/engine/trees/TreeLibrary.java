package dev.gantry.runner.engine.trees;

import dev.gantry.runner.inference.DataType;

/** A tree library's hold on one model file: what it says, and predictors over it. */
interface TreeLibrary {
  /** The library's name, for logs and errors. */
  String engineName();

  TreeFacts facts();

  /** The datatype of the library's predictions: FP32 for XGBoost, FP64 for LightGBM. */
  DataType predictionType();

  /**
   * A predictor of its own over the model (its own native booster), for one worker thread.
   *
   * @throws dev.gantry.runner.repository.ConfigException when the library cannot load the model
   */
  Predictor newPredictor();

  /** Predicts rows; used by one thread at a time. */
  interface Predictor extends AutoCloseable {
    /**
     * @param rows row-major features, {@code n × features}, NaN for a missing value
     * @return the library's {@code predict} for each row, row-major
     * @throws Exception the library's own error
     */
    double[] predict(float[] rows, int n) throws Exception;

    @Override
    void close();
  }
}
