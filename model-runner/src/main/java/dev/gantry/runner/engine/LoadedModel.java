package dev.gantry.runner.engine;

import static java.util.Objects.requireNonNull;

import dev.gantry.runner.inference.InferenceException;
import dev.gantry.runner.inference.ModelSignature;
import dev.gantry.runner.inference.Tensor;
import dev.gantry.runner.repository.DeviceSpec;
import dev.gantry.runner.repository.Platform;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;

/**
 * A model file loaded into an engine ({@link EngineModel}), with its resolved signature. Each
 * model instance gets its own {@link Instance} and runs on its own thread.
 */
public final class LoadedModel implements AutoCloseable {
  private final EngineModel model;
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

  private LoadedModel(EngineModel model, ModelSignature signature, Platform platform, DeviceSpec device,
      RunHook hook) {
    this.model = requireNonNull(model, "model");
    this.signature = requireNonNull(signature, "signature");
    this.platform = requireNonNull(platform, "platform");
    this.device = requireNonNull(device, "device");
    this.hook = requireNonNull(hook, "hook");
  }

  /** A loaded model; {@code model}'s outputs follow {@code signature}. */
  public static LoadedModel of(EngineModel model, ModelSignature signature, Platform platform, DeviceSpec device) {
    return new LoadedModel(model, signature, platform, device, RunHook.NONE);
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

  /** The engine's name, for logs. */
  public String engineName() {
    return model.engineName();
  }

  /** A new model instance; not thread-safe, use one per worker thread. */
  public Instance newInstance() {
    return new Instance(model.newInstance());
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      model.close();
    }
  }

  /** One model instance: runs a batch of inputs (in signature order) to outputs (in signature order). */
  public final class Instance implements AutoCloseable {
    private final EngineModel.Instance engine;

    private Instance(EngineModel.Instance engine) {
      this.engine = engine;
    }

    /**
     * Runs the engine.
     *
     * @throws InferenceException INTERNAL with the engine's message when the engine fails
     */
    public List<Tensor> run(List<Tensor> inputs) {
      return hook.run(inputs, engine::run);
    }

    @Override
    public void close() {
      engine.close();
    }
  }

  /**
   * The engine's own words: the innermost cause's message, and of a TorchScript traceback only
   * the line that says what went wrong (e.g. "RuntimeError: index 9 is out of bounds …").
   */
  public static String engineMessage(Throwable e) {
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
