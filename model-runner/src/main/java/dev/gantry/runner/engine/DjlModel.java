package dev.gantry.runner.engine;

import static java.util.Objects.requireNonNull;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.repository.zoo.ZooModel;
import dev.gantry.runner.inference.ErrorKind;
import dev.gantry.runner.inference.InferenceException;
import dev.gantry.runner.inference.ModelSignature;
import dev.gantry.runner.inference.Tensor;
import dev.gantry.runner.inference.TensorSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A model loaded into a DJL engine; each instance is a DJL predictor. */
final class DjlModel implements EngineModel {
  private final ZooModel<NDList, NDList> model;
  private final ModelSignature signature;
  private final String engine;

  DjlModel(ZooModel<NDList, NDList> model, ModelSignature signature, String engine) {
    this.model = requireNonNull(model, "model");
    this.signature = requireNonNull(signature, "signature");
    this.engine = requireNonNull(engine, "engine");
  }

  @Override
  public String engineName() {
    return engine;
  }

  @Override
  public Instance newInstance() {
    Predictor<NDList, NDList> predictor = model.newPredictor();
    return new Instance() {
      @Override
      public List<Tensor> run(List<Tensor> inputs) {
        return runEngine(predictor, inputs);
      }

      @Override
      public void close() {
        predictor.close();
      }
    };
  }

  @Override
  public void close() {
    model.close();
  }

  private List<Tensor> runEngine(Predictor<NDList, NDList> predictor, List<Tensor> inputs) {
    try (NDManager manager = model.getNDManager().newSubManager()) {
      NDList in = new NDList(inputs.size());
      for (Tensor t : inputs) {
        in.add(TensorConverter.toNDArray(manager, t));
      }
      NDList out = predictor.predict(in);
      try {
        return outputs(out);
      } finally {
        for (NDArray a : out) {
          a.close();
        }
      }
    } catch (InferenceException e) {
      throw e;
    } catch (Exception | Error e) {
      if (e instanceof Error && !(e instanceof LinkageError) && !(e.getClass().getName().contains("Engine"))) {
        throw (Error) e;
      }
      throw new InferenceException(ErrorKind.INTERNAL, engine + " failed: " + LoadedModel.engineMessage(e), e);
    }
  }

  private List<Tensor> outputs(NDList out) {
    List<TensorSpec> specs = signature.outputs();
    if (out.size() != specs.size()) {
      throw new InferenceException(ErrorKind.INTERNAL, "the model returned " + out.size()
          + " outputs but its config lists " + specs.size() + " " + signature.outputNames());
    }
    Map<String, NDArray> byName = new HashMap<>();
    for (NDArray a : out) {
      if (a.getName() != null) {
        byName.put(a.getName(), a);
      }
    }
    boolean named = byName.keySet().containsAll(signature.outputNames());
    List<Tensor> tensors = new ArrayList<>(specs.size());
    for (int i = 0; i < specs.size(); i++) {
      TensorSpec spec = specs.get(i);
      NDArray array = named ? byName.get(spec.name()) : out.get(i);
      Tensor t = TensorConverter.fromNDArray(spec.name(), array);
      if (t.datatype() != spec.datatype()) {
        throw new InferenceException(ErrorKind.INTERNAL, "output '" + spec.name() + "' came out as "
            + t.datatype() + " but the config declares " + spec.datatype() + "; fix the config's datatype");
      }
      tensors.add(t);
    }
    return tensors;
  }
}
