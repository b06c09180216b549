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
import dev.gantry.runner.repository.DeviceSpec;
import dev.gantry.runner.repository.Platform;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;

/**
 * A model file loaded into a DJL engine, with its resolved signature. Each model instance
 * gets its own {@link Instance} (a DJL predictor) and runs on its own thread.
 */
public final class LoadedModel implements AutoCloseable {
  private final ZooModel<NDList, NDList> model;
  private final ModelSignature signature;
  private final Platform platform;
  private final DeviceSpec device;
  private final RunHook hook;
  private final AtomicBoolean closed = new AtomicBoolean();

  /** Wraps every engine run of an instance: fault injection in tests. */
  @FunctionalInterface
  public interface RunHook {
    RunHook NONE = (inputs, engine) -> engine.apply(inputs);

    /**
     * @param engine runs the engine on its argument
     * @return what the run gives back
     */
    List<Tensor> run(List<Tensor> inputs, UnaryOperator<List<Tensor>> engine);
  }

  LoadedModel(ZooModel<NDList, NDList> model, ModelSignature signature, Platform platform, DeviceSpec device,
      RunHook hook) {
    this.model = requireNonNull(model, "model");
    this.signature = requireNonNull(signature, "signature");
    this.platform = requireNonNull(platform, "platform");
    this.device = requireNonNull(device, "device");
    this.hook = requireNonNull(hook, "hook");
  }

  /**
   * This model with every run of its instances passed through {@code hook}. Use it in place of
   * this one: both share the engine model, which either one's {@link #close()} frees.
   */
  public LoadedModel withRunHook(RunHook hook) {
    return new LoadedModel(model, signature, platform, device, hook);
  }

  /** Whether {@link #close()} has been called. */
  public boolean isClosed() {
    return closed.get();
  }

  public ModelSignature signature() {
    return signature;
  }

  public Platform platform() {
    return platform;
  }

  public DeviceSpec device() {
    return device;
  }

  /** A new model instance; not thread-safe, use one per worker thread. */
  public Instance newInstance() {
    return new Instance(model.newPredictor());
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      model.close();
    }
  }

  /** One model instance: runs a batch of inputs (in signature order) to outputs (in signature order). */
  public final class Instance implements AutoCloseable {
    private final Predictor<NDList, NDList> predictor;

    private Instance(Predictor<NDList, NDList> predictor) {
      this.predictor = predictor;
    }

    /**
     * Runs the engine.
     *
     * @throws InferenceException INTERNAL with the engine's message when the engine fails
     */
    public List<Tensor> run(List<Tensor> inputs) {
      return hook.run(inputs, this::runEngine);
    }

    private List<Tensor> runEngine(List<Tensor> inputs) {
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
        throw new InferenceException(ErrorKind.INTERNAL, platform.djlEngine() + " failed: " + engineMessage(e), e);
      }
    }

    @Override
    public void close() {
      predictor.close();
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

  /**
   * The engine's own words: the innermost cause's message, and of a TorchScript traceback only
   * the line that says what went wrong (e.g. "RuntimeError: index 9 is out of bounds …").
   */
  static String engineMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    String[] lines = message.split("\n");
    for (int i = lines.length - 1; i >= 0; i--) {
      String line = lines[i].trim();
      if (line.matches("^[A-Za-z_.]*(Error|Exception): .*")) {
        return line;
      }
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < lines.length && i < 3; i++) {
      if (!lines[i].isBlank()) {
        sb.append(sb.length() > 0 ? " | " : "").append(lines[i].trim());
      }
    }
    return sb.toString();
  }
}
