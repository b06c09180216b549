package dev.gantry.runner.engine;

import dev.gantry.runner.inference.Tensor;
import java.util.List;

/**
 * A model file loaded into one engine (DJL's PyTorch or ONNX Runtime, XGBoost, LightGBM).
 * {@link LoadedModel} wraps it with the signature; each model instance gets its own
 * {@link Instance}, used by one worker thread at a time.
 */
public interface EngineModel extends AutoCloseable {
  /** The engine's name, for logs and error messages. */
  String engineName();

  /** A new model instance; not thread-safe, use one per worker thread. */
  Instance newInstance();

  /** Frees the engine's model; instances are closed first. */
  @Override
  void close();

  /** One model instance: runs a batch of inputs (in signature order) to outputs (in signature order). */
  interface Instance extends AutoCloseable {
    /**
     * Runs the engine.
     *
     * @throws dev.gantry.runner.inference.InferenceException INTERNAL with the engine's message when it fails
     */
    List<Tensor> run(List<Tensor> inputs);

    @Override
    void close();
  }
}
