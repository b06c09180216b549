package dev.gantry.runner.engine;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDList;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import dev.gantry.runner.engine.trees.TreeLoader;
import dev.gantry.runner.inference.ModelSignature;
import dev.gantry.runner.inference.TensorSpec;
import dev.gantry.runner.repository.ConfigException;
import dev.gantry.runner.repository.DeviceSpec;
import dev.gantry.runner.repository.MlflowModel;
import dev.gantry.runner.repository.ModelConfig;
import dev.gantry.runner.repository.Platform;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Loads model files into DJL engines, and tree models (XGBoost, LightGBM) through {@link TreeLoader}. Engines come from the classpath (native libraries from
 * Maven Central's platform jars); with {@code ai.djl.offline=true} nothing is downloaded.
 */
public final class ModelLoader implements EngineLoader {
  private final int engineThreads;
  private final TreeLoader trees;

  /** @param engineThreads ONNX Runtime intra-op (and XGBoost/LightGBM) threads per session; 0 for their default */
  public ModelLoader(int engineThreads) {
    this.engineThreads = engineThreads;
    this.trees = new TreeLoader(engineThreads);
  }

  /** A loader that leaves the engines' thread defaults. */
  public ModelLoader() {
    this(0);
  }

  /**
   * Loads one version's model file.
   *
   * @throws ConfigException when the file, the config or the device request cannot be honoured
   */
  @Override
  public LoadedModel load(ModelConfig config, Path file) {
    if (!config.platform().usesDjl()) {
      return trees.load(config, file);
    }
    if (config.platform() == Platform.PYTORCH) {
      TorchArchive.notTorchScript(file).ifPresent(why -> {
        throw new ConfigException(why, null);
      });
    }
    Device device = device(config.platform(), config.device(), config.name());
    Optional<OnnxIntrospector.Described> graph = config.platform() == Platform.ONNXRUNTIME
        ? Optional.of(OnnxIntrospector.describe(file)) : Optional.empty();
    ModelSignature signature = signature(config, file, graph);
    checkDatatypes(config, file, signature);
    Map<String, String> options = new HashMap<>();
    if (engineThreads > 0 && config.platform() == Platform.ONNXRUNTIME) {
      options.put("intraOpNumThreads", Integer.toString(engineThreads));
      options.put("interOpNumThreads", Integer.toString(engineThreads));
    }
    Optional<byte[]> rewritten = graph.flatMap(OnnxIntrospector.Described::served);
    try {
      ZooModel<NDList, NDList> model = rewritten.isPresent()
          ? fromBytes(config, device, rewritten.get(), options) : fromFile(config, device, file, options);
      return LoadedModel.of(new DjlModel(model, signature, config.platform().djlEngine()), signature,
          config.platform(), config.device());
    } catch (ModelNotFoundException | MalformedModelException | IOException | RuntimeException e) {
      throw new ConfigException(file + ": " + config.platform().djlEngine() + " cannot load the model: "
          + e.getMessage() + hint(config.platform()), e);
    }
  }

  private static ZooModel<NDList, NDList> fromFile(ModelConfig config, Device device, Path file,
      Map<String, String> options) throws ModelNotFoundException, MalformedModelException, IOException {
    Criteria.Builder<NDList, NDList> builder = Criteria.builder()
        .setTypes(NDList.class, NDList.class)
        .optModelPath(file)
        .optEngine(config.platform().djlEngine())
        .optDevice(device)
        .optTranslator(new NoopTranslator());
    options.forEach(builder::optOption);
    return builder.build().loadModel();
  }

  /** A model whose graph Gantry rewrote (see {@link ZipMapOutputs}), loaded from memory. */
  private static ZooModel<NDList, NDList> fromBytes(ModelConfig config, Device device, byte[] onnx,
      Map<String, String> options) throws MalformedModelException, IOException {
    Model model = Model.newInstance(config.name(), device, config.platform().djlEngine());
    try {
      model.load(new ByteArrayInputStream(onnx), options);
    } catch (MalformedModelException | IOException | RuntimeException e) {
      model.close();
      throw e;
    }
    return new ZooModel<>(model, new NoopTranslator());
  }

  private static void checkDatatypes(ModelConfig config, Path file, ModelSignature signature) {
    java.util.Set<dev.gantry.runner.inference.DataType> supported = config.platform().datatypes();
    for (TensorSpec spec : concat(signature.inputs(), signature.outputs())) {
      if (!supported.contains(spec.datatype())) {
        throw new ConfigException(file + ": tensor '" + spec.name() + "' has datatype " + spec.datatype()
            + ", which the " + config.platform().djlEngine() + " engine cannot take; fix: export the model with one"
            + " of " + new java.util.TreeSet<>(supported), null);
      }
    }
  }

  private static List<TensorSpec> concat(List<TensorSpec> a, List<TensorSpec> b) {
    List<TensorSpec> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  private static String hint(Platform platform) {
    return platform == Platform.PYTORCH
        ? " (fix: save the model as TorchScript with torch.jit.trace or torch.jit.script, then torch.jit.save)"
        : " (fix: export a valid ONNX file, e.g. with torch.onnx.export)";
  }

  private static Device device(Platform platform, DeviceSpec spec, String model) {
    if (!spec.gpu()) {
      return Device.cpu();
    }
    Engine engine = Engine.getEngine(platform.djlEngine());
    int gpus = engine.getGpuCount();
    if (spec.index() >= gpus) {
      throw new ConfigException("model '" + model + "': 'device' asks for " + spec + " but the "
          + platform.djlEngine() + " engine sees " + gpus + " GPU(s) on this machine; fix: set 'device: cpu', "
          + "or run on a machine with that GPU and the CUDA build of the engine", null);
    }
    return Device.gpu(spec.index());
  }

  private static ModelSignature signature(ModelConfig config, Path file, Optional<OnnxIntrospector.Described> graph) {
    if (graph.isEmpty()) {
      return new ModelSignature(config.inputs(), config.outputs(), config.maxBatchSize());
    }
    OnnxIntrospector.Described described = graph.get();
    List<TensorSpec> inputs = withSignatureColumns(config, resolve(config, file, "inputs", config.inputs(),
        described.inputs()));
    List<TensorSpec> outputs = resolve(config, file, "outputs", config.outputs(), described.outputs());
    if (config.pyfuncDataFrame()) {
      outputs = outputs.stream().map(ModelLoader::asDataFrameColumn).toList();
    }
    return new ModelSignature(inputs, outputs, config.maxBatchSize());
  }

  /** An MLflow ONNX model's output, as its pyfunc shows it: a DataFrame column (a ZipMap keeps its own form). */
  private static TensorSpec asDataFrameColumn(TensorSpec out) {
    if (out.parameters().containsKey(MlflowModel.PYFUNC_PARAMETER)) {
      return out;
    }
    Map<String, String> parameters = new java.util.LinkedHashMap<>(out.parameters());
    parameters.put(MlflowModel.PYFUNC_PARAMETER, MlflowModel.PYFUNC_COLUMN);
    return new TensorSpec(out.name(), out.datatype(), out.dims(), parameters);
  }

  /**
   * A graph with one input of one row per example ({@code [N, k]}) whose MLflow signature names k columns takes them
   * stacked in the signature's order, as MLflow's pyfunc orders a DataFrame by the signature before it calls the
   * model: published as the input's {@code columns} parameter, which is how the sidecar orders named columns.
   */
  private static List<TensorSpec> withSignatureColumns(ModelConfig config, List<TensorSpec> inputs) {
    List<String> columns = config.signatureColumns();
    if (columns.isEmpty() || inputs.size() != 1 || config.maxBatchSize() == 0) {
      return inputs;
    }
    TensorSpec in = inputs.get(0);
    boolean oneRowPerExample = in.dims().length == 1 && (in.dims()[0] == -1 || in.dims()[0] == columns.size());
    if (!oneRowPerExample || in.parameters().containsKey(MlflowModel.COLUMNS_PARAMETER)) {
      return inputs;
    }
    Map<String, String> parameters = new java.util.LinkedHashMap<>(in.parameters());
    parameters.put(MlflowModel.COLUMNS_PARAMETER, String.join(",", columns));
    return List.of(new TensorSpec(in.name(), in.datatype(), new long[] {columns.size()}, parameters));
  }

  /** Config tensors checked against the graph, or the graph's own when the config lists none. */
  private static List<TensorSpec> resolve(ModelConfig config, Path file, String key, List<TensorSpec> declared,
      List<TensorSpec> graph) {
    List<TensorSpec> result = new ArrayList<>();
    for (TensorSpec g : graph) {
      Optional<TensorSpec> d = declared.stream().filter(s -> s.name().equals(g.name())).findFirst();
      if (declared.isEmpty()) {
        result.add(fromGraph(config, file, g));
      } else if (d.isPresent()) {
        if (d.get().datatype() != g.datatype()) {
          throw new ConfigException(file + ": config '" + key + "' declares '" + g.name() + "' as "
              + d.get().datatype() + " but the ONNX graph has " + g.datatype() + "; fix: use " + g.datatype()
              + " or leave '" + key + "' out to take the graph's", null);
        }
        result.add(new TensorSpec(g.name(), g.datatype(), d.get().dims(), g.parameters()));
      } else if (key.equals("inputs")) {
        throw new ConfigException(file + ": the ONNX graph has input '" + g.name() + "' that config 'inputs'"
            + " does not list; fix: list every graph input, or leave 'inputs' out", null);
      }
    }
    for (TensorSpec d : declared) {
      if (graph.stream().noneMatch(g -> g.name().equals(d.name()))) {
        throw new ConfigException(file + ": config '" + key + "' lists '" + d.name() + "' but the ONNX graph has "
            + graph.stream().map(TensorSpec::name).toList() + "; fix: use the graph's names", null);
      }
    }
    if (key.equals("outputs") && !declared.isEmpty() && result.size() != graph.size()) {
      throw new ConfigException(file + ": config 'outputs' must list every graph output "
          + graph.stream().map(TensorSpec::name).toList() + ", or be left out", null);
    }
    return result;
  }

  private static TensorSpec fromGraph(ModelConfig config, Path file, TensorSpec g) {
    long[] full = g.dims();
    if (config.maxBatchSize() == 0) {
      return g;
    }
    if (full.length == 0 || full[0] != -1) {
      throw new ConfigException(file + ": max_batch_size is " + config.maxBatchSize() + " but tensor '" + g.name()
          + "' has shape " + Arrays.toString(full) + " without a variable first dimension; fix: set"
          + " max_batch_size: 0, or export the model with a dynamic batch axis", null);
    }
    return new TensorSpec(g.name(), g.datatype(), Arrays.copyOfRange(full, 1, full.length), g.parameters());
  }
}
