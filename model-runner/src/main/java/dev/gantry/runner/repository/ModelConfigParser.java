package dev.gantry.runner.repository;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.gantry.runner.batching.QueueDelayPolicy;
import dev.gantry.runner.inference.DataType;
import dev.gantry.runner.inference.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads a model's {@code config.yaml}. Every problem is reported as a {@link ConfigException}
 * naming the file, the key and the fix; unknown keys are errors, not silently ignored.
 */
public final class ModelConfigParser {
  private static final Set<String> TOP_KEYS = Set.of("name", "platform", "max_batch_size", "inputs", "outputs",
      "dynamic_batching", "instance_count", "device", "warmup", "version_policy");
  private static final Set<String> TENSOR_KEYS = Set.of("name", "datatype", "dims");
  private static final Set<String> BATCHING_KEYS =
      Set.of("max_queue_delay_microseconds", "preferred_batch_sizes", "max_queue_size", "queue_delay_policy");
  private static final Set<String> WARMUP_KEYS = Set.of("iterations", "batch_size");
  private static final Set<String> POLICY_KEYS = Set.of("latest", "all", "specific");

  private final YAMLMapper yaml = new YAMLMapper();

  /**
   * Parses a config file.
   *
   * @param file the config file; may be absent when {@code platformHint} is given (MLflow)
   * @param modelName the folder name, which is the model's name
   * @param platformHint the platform implied by the model's files (MLflow flavor), if any
   */
  public ModelConfig parse(Path file, String modelName, Optional<Platform> platformHint) {
    JsonNode root = read(file);
    checkKeys(file, "", root, TOP_KEYS);
    if (root.has("name") && !root.get("name").asText().equals(modelName)) {
      throw new ConfigException(file, "name", "is '" + root.get("name").asText()
          + "' but the model folder is '" + modelName + "'", "remove 'name' or make it '" + modelName + "'");
    }
    Platform platform = platform(file, root, platformHint);
    // a tree model takes rows: it batches unless the config says otherwise, as MLflow models do
    int maxBatch = intValue(file, root, "max_batch_size", platform.usesDjl() ? 0 : MlflowModel.DEFAULT_MAX_BATCH_SIZE,
        0, 1 << 20);
    List<TensorSpec> inputs = tensors(file, root, "inputs");
    List<TensorSpec> outputs = tensors(file, root, "outputs");
    if (platformHint.isPresent() && (!inputs.isEmpty() || !outputs.isEmpty())) {
      throw new ConfigException(file, inputs.isEmpty() ? "outputs" : "inputs",
          "is set for an MLflow model, whose signature defines its tensors", "remove it from config.yaml");
    }
    if (platform == Platform.PYTORCH && platformHint.isEmpty() && (inputs.isEmpty() || outputs.isEmpty())) {
      throw new ConfigException(file, inputs.isEmpty() ? "inputs" : "outputs",
          "is required for platform 'pytorch' (a TorchScript file does not describe its tensors)",
          "list each tensor with name, datatype and dims");
    }
    if (!platform.usesDjl() && (!inputs.isEmpty() || !outputs.isEmpty())) {
      throw new ConfigException(file, inputs.isEmpty() ? "outputs" : "inputs", "is set for platform '"
          + platform.configName() + "', whose model file defines its tensors", "remove it from config.yaml");
    }
    Optional<BatchingConfig> batching = batching(file, root, maxBatch);
    int instances = intValue(file, root, "instance_count", 1, 1, 64);
    DeviceSpec device = device(file, root);
    WarmupConfig warmup = warmup(file, root);
    VersionPolicy policy = versionPolicy(file, root);
    int queue = batching.map(BatchingConfig::maxQueueSize).orElse(BatchingConfig.DEFAULT_MAX_QUEUE_SIZE);
    return new ModelConfig(modelName, platform, maxBatch, inputs, outputs, batching, queue, instances, device,
        warmup, policy, List.of(), false);
  }

  private JsonNode read(Path file) {
    if (!Files.exists(file)) {
      return MissingNode.getInstance();
    }
    try {
      JsonNode root = yaml.readTree(file.toFile());
      if (root == null || root.isMissingNode() || root.isNull()) {
        return MissingNode.getInstance();
      }
      if (!root.isObject()) {
        throw new ConfigException(file, "", "is not a YAML mapping", "write 'key: value' lines, see the README");
      }
      return root;
    } catch (IOException e) {
      throw new ConfigException(file, "", "is not valid YAML: " + firstLine(e.getMessage()),
          "correct the YAML syntax at the reported line");
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  private static void checkKeys(Path file, String prefix, JsonNode node, Set<String> known) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!known.contains(key)) {
        throw new ConfigException(file, prefix + key, "is not a known key",
            "use one of " + new TreeSet<>(known));
      }
    }
  }

  private static Platform platform(Path file, JsonNode root, Optional<Platform> hint) {
    JsonNode node = root.path("platform");
    if (node.isMissingNode()) {
      return hint.orElseThrow(() -> new ConfigException(file, "platform", "is missing",
          "add 'platform: pytorch' (TorchScript model.pt), 'platform: onnxruntime' (model.onnx),"
          + " 'platform: xgboost' (model.json or model.ubj) or 'platform: lightgbm' (model.lgb)"));
    }
    Platform p = Platform.parse(node.asText()).orElseThrow(() -> new ConfigException(file, "platform",
        "has unknown value '" + node.asText() + "'", "use 'pytorch', 'onnxruntime', 'xgboost' or 'lightgbm'"));
    if (hint.isPresent() && hint.get() != p) {
      throw new ConfigException(file, "platform", "is '" + node.asText() + "' but the MLflow flavor is "
          + hint.get().configName(), "remove 'platform'");
    }
    return p;
  }

  private static int intValue(Path file, JsonNode parent, String key, int dflt, int min, int max) {
    return intValue(file, "", parent, key, dflt, min, max);
  }

  private static int intValue(Path file, String prefix, JsonNode parent, String key, int dflt, int min, int max) {
    JsonNode node = parent.path(key);
    if (node.isMissingNode()) {
      return dflt;
    }
    if (!node.canConvertToInt() || !node.isIntegralNumber() || node.asInt() < min || node.asInt() > max) {
      throw new ConfigException(file, prefix + key, "must be a whole number from " + min + " to " + max
          + ", got '" + node.asText() + "'", "set it to a whole number in that range");
    }
    return node.asInt();
  }

  private static List<TensorSpec> tensors(Path file, JsonNode root, String key) {
    JsonNode list = root.path(key);
    if (list.isMissingNode()) {
      return List.of();
    }
    if (!list.isArray()) {
      throw new ConfigException(file, key, "must be a list", "write one '- name: …' entry per tensor");
    }
    List<TensorSpec> specs = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      String at = key + "[" + i + "]";
      JsonNode t = list.get(i);
      if (!t.isObject()) {
        throw new ConfigException(file, at, "must be a mapping with name, datatype and dims", "see the README");
      }
      checkKeys(file, at + ".", t, TENSOR_KEYS);
      String name = t.path("name").asText("");
      if (name.isBlank()) {
        throw new ConfigException(file, at + ".name", "is missing", "give the tensor its name in the model");
      }
      if (!seen.add(name)) {
        throw new ConfigException(file, at + ".name", "repeats '" + name + "'", "give each tensor a distinct name");
      }
      String dt = t.path("datatype").asText("");
      DataType datatype = DataType.parse(dt).orElseThrow(() -> new ConfigException(file, at + ".datatype",
          "is '" + dt + "', not a known datatype", "use one of " + DataType.names()));
      JsonNode dimsNode = t.path("dims");
      if (!dimsNode.isArray()) {
        throw new ConfigException(file, at + ".dims", "is missing or not a list",
            "write the dimensions as a list, -1 for a variable size, e.g. dims: [3]");
      }
      long[] dims = new long[dimsNode.size()];
      for (int d = 0; d < dims.length; d++) {
        JsonNode v = dimsNode.get(d);
        if (!v.isIntegralNumber() || v.asLong() < -1 || v.asLong() == 0) {
          throw new ConfigException(file, at + ".dims", "has '" + v.asText() + "' at position " + d,
              "use positive sizes, or -1 for a variable size");
        }
        dims[d] = v.asLong();
      }
      specs.add(new TensorSpec(name, datatype, dims));
    }
    return specs;
  }

  private static Optional<BatchingConfig> batching(Path file, JsonNode root, int maxBatch) {
    JsonNode node = root.path("dynamic_batching");
    if (node.isMissingNode() || node.isNull()) {
      return Optional.empty();
    }
    if (!node.isObject()) {
      throw new ConfigException(file, "dynamic_batching", "must be a mapping",
          "write 'dynamic_batching:' with max_queue_delay_microseconds etc. under it, or '{}' for defaults");
    }
    if (maxBatch == 0) {
      throw new ConfigException(file, "dynamic_batching", "needs a batch dimension but max_batch_size is 0",
          "set max_batch_size to the largest batch the model takes, or remove dynamic_batching");
    }
    checkKeys(file, "dynamic_batching.", node, BATCHING_KEYS);
    JsonNode delay = node.path("max_queue_delay_microseconds");
    long delayMicros = BatchingConfig.DEFAULT_MAX_QUEUE_DELAY_MICROS;
    if (!delay.isMissingNode()) {
      if (!delay.isIntegralNumber() || delay.asLong() < 0 || delay.asLong() > 10_000_000) {
        throw new ConfigException(file, "dynamic_batching.max_queue_delay_microseconds",
            "must be a whole number of microseconds from 0 to 10000000, got '" + delay.asText() + "'",
            "set e.g. 1000 for one millisecond");
      }
      delayMicros = delay.asLong();
    }
    List<Integer> preferred = new ArrayList<>();
    JsonNode pref = node.path("preferred_batch_sizes");
    if (!pref.isMissingNode()) {
      if (!pref.isArray()) {
        throw new ConfigException(file, "dynamic_batching.preferred_batch_sizes", "must be a list",
            "write e.g. [8, 16]");
      }
      for (JsonNode v : pref) {
        if (!v.isIntegralNumber() || v.asInt() < 1 || v.asInt() > maxBatch) {
          throw new ConfigException(file, "dynamic_batching.preferred_batch_sizes", "has '" + v.asText()
              + "', outside 1.." + maxBatch, "use sizes no larger than max_batch_size");
        }
        preferred.add(v.asInt());
      }
    }
    int queue = intValue(file, "dynamic_batching.", node, "max_queue_size",
        BatchingConfig.DEFAULT_MAX_QUEUE_SIZE, 1, 1 << 20);
    return Optional.of(new BatchingConfig(delayMicros, preferred.stream().sorted().distinct().toList(), queue,
        queueDelayPolicy(file, node)));
  }

  private static QueueDelayPolicy queueDelayPolicy(Path file, JsonNode batching) {
    JsonNode node = batching.path("queue_delay_policy");
    if (node.isMissingNode()) {
      return BatchingConfig.DEFAULT_QUEUE_DELAY_POLICY;
    }
    String problem = node.isTextual() ? "has unknown value '" + node.asText() + "'" : "must be a name, got " + node;
    return QueueDelayPolicy.parse(node.isTextual() ? node.asText() : "").orElseThrow(() -> new ConfigException(file,
        "dynamic_batching.queue_delay_policy", problem, "use one of " + QueueDelayPolicy.configNames()
            + ": 'when_busy' (the default) waits up to max_queue_delay_microseconds only while another instance"
            + " is busy, 'always' whenever a batch is short"));
  }

  private static DeviceSpec device(Path file, JsonNode root) {
    JsonNode node = root.path("device");
    if (node.isMissingNode()) {
      return DeviceSpec.CPU;
    }
    return DeviceSpec.parse(node.asText()).orElseThrow(() -> new ConfigException(file, "device",
        "has unknown value '" + node.asText() + "'", "use 'cpu', 'gpu' or 'gpu:N'"));
  }

  private static WarmupConfig warmup(Path file, JsonNode root) {
    JsonNode node = root.path("warmup");
    if (node.isMissingNode()) {
      return WarmupConfig.DEFAULT;
    }
    if (node.isBoolean()) {
      return node.asBoolean() ? WarmupConfig.DEFAULT : new WarmupConfig(0, 1);
    }
    if (!node.isObject()) {
      throw new ConfigException(file, "warmup", "must be true, false or a mapping",
          "write e.g. 'warmup: {iterations: 2, batch_size: 1}'");
    }
    checkKeys(file, "warmup.", node, WARMUP_KEYS);
    return new WarmupConfig(intValue(file, "warmup.", node, "iterations", 1, 0, 1000),
        intValue(file, "warmup.", node, "batch_size", 1, 1, 1 << 20));
  }

  private static VersionPolicy versionPolicy(Path file, JsonNode root) {
    JsonNode node = root.path("version_policy");
    if (node.isMissingNode()) {
      return new VersionPolicy.Latest(1);
    }
    if (!node.isObject() || node.size() != 1) {
      throw new ConfigException(file, "version_policy", "must have exactly one of latest, all, specific",
          "write e.g. 'version_policy: {latest: 1}', '{all: true}' or '{specific: [1, 3]}'");
    }
    checkKeys(file, "version_policy.", node, POLICY_KEYS);
    if (node.has("latest")) {
      return new VersionPolicy.Latest(intValue(file, "version_policy.", node, "latest", 1, 1, 1000));
    }
    if (node.has("all")) {
      if (!node.get("all").asBoolean(false)) {
        throw new ConfigException(file, "version_policy.all", "must be true", "write 'all: true'");
      }
      return new VersionPolicy.All();
    }
    JsonNode list = node.get("specific");
    if (!list.isArray() || list.isEmpty()) {
      throw new ConfigException(file, "version_policy.specific", "must be a non-empty list of versions",
          "write e.g. 'specific: [1, 3]'");
    }
    Set<Long> versions = new HashSet<>();
    for (JsonNode v : list) {
      if (!v.isIntegralNumber() || v.asLong() < 1) {
        throw new ConfigException(file, "version_policy.specific", "has '" + v.asText() + "'",
            "list version folder numbers (1, 2, …)");
      }
      versions.add(v.asLong());
    }
    return new VersionPolicy.Specific(versions);
  }
}
