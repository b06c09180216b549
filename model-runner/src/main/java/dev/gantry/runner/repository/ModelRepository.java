package dev.gantry.runner.repository;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A model repository directory: one folder per model holding {@code config.yaml} and one
 * numbered folder per version ({@code 1/model.pt}, {@code 2/model.onnx}, …), or an MLflow
 * model directory ({@code MLmodel} plus its files, served as version 1).
 */
public final class ModelRepository {
  public static final String CONFIG_FILE = "config.yaml";

  private final Optional<Path> root;
  private final Optional<DeviceSpec> deviceOverride;
  private final SourcedModels sourced;
  private final ModelConfigParser parser = new ModelConfigParser();

  /**
   * @param root the repository directory
   * @param deviceOverride when present, every model runs there whatever its config says
   */
  public ModelRepository(Path root, Optional<DeviceSpec> deviceOverride) {
    this(Optional.of(root), deviceOverride, SourcedModels.NONE);
  }

  /**
   * @param root the repository directory, if any
   * @param deviceOverride when present, every model runs there whatever its config says
   * @param sourced models named by URI, served beside the directory's (a name in both is the source's)
   */
  public ModelRepository(Optional<Path> root, Optional<DeviceSpec> deviceOverride, SourcedModels sourced) {
    this.root = requireNonNull(root, "root").map(r -> r.toAbsolutePath().normalize());
    this.deviceOverride = requireNonNull(deviceOverride, "deviceOverride");
    this.sourced = requireNonNull(sourced, "sourced");
    if (this.root.isPresent() && !Files.isDirectory(this.root.get())) {
      throw new ConfigException(this.root.get(), "", "is not a directory",
          "point --model-repository at a folder holding one folder per model");
    }
  }

  /** The repository directory; {@link IllegalStateException} when models come only from URIs. */
  public Path root() {
    return root.orElseThrow(() -> new IllegalStateException("no model repository directory is configured"));
  }

  /** Where models are looked for, for messages. */
  public String describe() {
    String dir = root.map(r -> r.toString()).orElse("");
    String uris = sourced.names().isEmpty() ? "" : "model URIs for " + new TreeSet<>(sourced.names());
    return dir.isEmpty() ? uris : uris.isEmpty() ? dir : dir + " and " + uris;
  }

  /** Names of the folders that hold a model (a config.yaml or an MLmodel file), and of the sourced models. */
  public List<String> modelNames() {
    TreeSet<String> names = new TreeSet<>(sourced.names());
    if (root.isEmpty()) {
      return List.copyOf(names);
    }
    try (Stream<Path> children = Files.list(root.get())) {
      children.filter(Files::isDirectory)
          .filter(d -> Files.isRegularFile(d.resolve(CONFIG_FILE)) || Files.isRegularFile(d.resolve("MLmodel")))
          .map(d -> d.getFileName().toString())
          .forEach(names::add);
      return List.copyOf(names);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list model repository " + root.get(), e);
    }
  }

  /** Why the last move of a sourced model to a new version failed, if it did. */
  public Optional<String> updateFailure(String name) {
    return sourced.names().contains(name) ? sourced.updateFailure(name) : Optional.empty();
  }

  /** The URI a model comes from, when it comes from one. */
  public Optional<SourcedModels.Sourced> source(String name) {
    if (!sourced.names().contains(name)) {
      return Optional.empty();
    }
    try {
      return Optional.of(sourced.current(name));
    } catch (ConfigException e) {
      return Optional.empty();
    }
  }

  /** The candidate of a model named by URI, while a rollout decides about it. */
  public Optional<SourcedModels.Sourced> candidate(String name) {
    return sourced.names().contains(name) ? sourced.candidate(name) : Optional.empty();
  }

  /** The candidate version of a model named by URI, while a rollout decides about it. */
  public Optional<ModelDefinition> readCandidate(String name) {
    if (!sourced.names().contains(name)) {
      return Optional.empty();
    }
    return sourced.candidate(name).map(c -> mlflowDirectory(name, c.dir(), c.version()));
  }

  public boolean contains(String name) {
    return isSafeName(name) && modelNames().contains(name);
  }

  /**
   * Reads one model's definition from disk.
   *
   * @throws ConfigException when the model's files are missing or wrong
   */
  public ModelDefinition read(String name) {
    if (sourced.names().contains(name)) {
      SourcedModels.Sourced s = sourced.current(name);
      return mlflowDirectory(name, s.dir(), s.version());
    }
    if (!isSafeName(name) || root.isEmpty()) {
      throw new ConfigException("'" + name + "' is not a model of " + describe()
          + "; fix: use a folder name of the repository or the name of a model URI", null);
    }
    Path dir = root.get().resolve(name);
    Path configFile = dir.resolve(CONFIG_FILE);
    if (Files.isRegularFile(dir.resolve("MLmodel"))) {
      return mlflowDirectory(name, dir, 1L);
    }
    if (!Files.isRegularFile(configFile)) {
      throw new ConfigException(configFile, "", "does not exist",
          "add a config.yaml (see the README) or an MLflow MLmodel file to " + dir);
    }
    ModelConfig config = withOverride(parser.parse(configFile, name, Optional.empty()));
    SortedSet<Long> onDisk = versionFolders(dir);
    if (onDisk.isEmpty()) {
      throw new ConfigException(dir, "", "has no version folders",
          "put the model file in a numbered folder, e.g. " + dir.resolve("1").resolve(config.platform().fileName()));
    }
    SortedSet<Long> chosen = config.versionPolicy().select(onDisk);
    if (config.versionPolicy() instanceof VersionPolicy.Specific s && !onDisk.containsAll(s.versions())) {
      TreeSet<Long> missing = new TreeSet<>(s.versions());
      missing.removeAll(onDisk);
      throw new ConfigException(configFile, "version_policy.specific", "lists versions " + missing
          + " that have no folder (found " + onDisk + ")", "list only existing versions");
    }
    SortedMap<Long, Path> versions = new TreeMap<>();
    for (long v : chosen) {
      Path folder = dir.resolve(Long.toString(v));
      Path file = config.platform().fileNames().stream().map(folder::resolve).filter(Files::isRegularFile)
          .findFirst().orElseThrow(() -> new ConfigException(folder.resolve(config.platform().fileName()), "",
              "does not exist", "platform '" + config.platform().configName() + "' expects its model file named "
              + String.join(" or ", config.platform().fileNames()) + " in each version folder"));
      versions.put(v, file);
    }
    return new ModelDefinition(config, versions, false);
  }

  /** An MLflow model directory served as one version; a config.yaml beside MLmodel may tune it. */
  private ModelDefinition mlflowDirectory(String name, Path dir, long version) {
    Path configFile = dir.resolve(CONFIG_FILE);
    MlflowModel mlflow = MlflowModel.read(dir);
    ModelConfig config = parser.parse(configFile, name, Optional.of(mlflow.platform()));
    int maxBatch = config.maxBatchSize() == 0 && !mentionsMaxBatch(configFile)
        ? mlflow.defaultMaxBatchSize() : config.maxBatchSize();
    config = config.withTensors(mlflow.inputs(), mlflow.outputs(), maxBatch).withSignatureColumns(mlflow.columns())
        .withPyfuncDataFrame(mlflow.platform() == Platform.ONNXRUNTIME);
    return new ModelDefinition(withOverride(config), new TreeMap<>(java.util.Map.of(version, mlflow.modelFile())),
        true);
  }

  private ModelConfig withOverride(ModelConfig config) {
    return deviceOverride.map(config::withDevice).orElse(config);
  }

  private static boolean mentionsMaxBatch(Path configFile) {
    try {
      return Files.isRegularFile(configFile) && Files.readString(configFile).contains("max_batch_size");
    } catch (IOException e) {
      return false;
    }
  }

  private static SortedSet<Long> versionFolders(Path dir) {
    SortedSet<Long> versions = new TreeSet<>();
    try (Stream<Path> children = Files.list(dir)) {
      List<Path> dirs = new ArrayList<>(children.filter(Files::isDirectory).toList());
      for (Path d : dirs) {
        String n = d.getFileName().toString();
        if (n.matches("[0-9]{1,18}") && Long.parseLong(n) > 0) {
          versions.add(Long.parseLong(n));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
    return versions;
  }

  private static boolean isSafeName(String name) {
    return name != null && !name.isEmpty() && !name.contains("/") && !name.contains("\\") && !name.equals(".")
        && !name.equals("..");
  }
}
