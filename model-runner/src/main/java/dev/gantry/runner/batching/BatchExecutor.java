package dev.gantry.runner.batching;

import dev.gantry.runner.inference.Tensor;
import java.util.List;

/** Runs one batch on one model instance. Each worker thread owns one executor. */
@FunctionalInterface
public interface BatchExecutor {
  /**
   * @param inputs merged inputs in signature order
   * @return outputs in signature order, each with the batch's rows first
   */
  List<Tensor> run(List<Tensor> inputs);
}
