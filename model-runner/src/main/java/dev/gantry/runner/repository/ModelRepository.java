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

  private final Path root;
  private final Optional<DeviceSpec> deviceOverride;
  private final ModelConfigParser parser = new ModelConfigParser();

  /**
   * @param root the repository directory
   * @param deviceOverride when present, every model runs there whatever its config says
   */
  public ModelRepository(Path root, Optional<DeviceSpec> deviceOverride) {
    this.root = requireNonNull(root, "root").toAbsolutePath().normalize();
    this.deviceOverride = requireNonNull(deviceOverride, "deviceOverride");
    if (!Files.isDirectory(this.root)) {
      throw new ConfigException(this.root, "", "is not a directory",
          "point --model-repository at a folder holding one folder per model");
    }
  }

  public Path root() {
    return root;
  }

  /** Names of the folders that hold a model (a config.yaml or an MLmodel file). */
  public List<String> modelNames() {
    try (Stream<Path> children = Files.list(root)) {
      return children.filter(Files::isDirectory)
          .filter(d -> Files.isRegularFile(d.resolve(CONFIG_FILE)) || Files.isRegularFile(d.resolve("MLmodel")))
          .map(d -> d.getFileName().toString())
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list model repository " + root, e);
    }
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
    if (!isSafeName(name)) {
      throw new ConfigException(root, "", "has no model named '" + name + "'", "use a folder name of the repository");
    }
    Path dir = root.resolve(name);
    Path configFile = dir.resolve(CONFIG_FILE);
    if (Files.isRegularFile(dir.resolve("MLmodel"))) {
      MlflowModel mlflow = MlflowModel.read(dir);
      ModelConfig config = parser.parse(configFile, name, Optional.of(mlflow.platform()));
      int maxBatch = config.maxBatchSize() == 0 && !mentionsMaxBatch(configFile)
          ? mlflow.defaultMaxBatchSize() : config.maxBatchSize();
      config = config.withTensors(mlflow.inputs(), mlflow.outputs(), maxBatch);
      return new ModelDefinition(withOverride(config), new TreeMap<>(java.util.Map.of(1L, mlflow.modelFile())), true);
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
