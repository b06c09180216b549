package dev.gantry.runner.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gantry.runner.TestModels;
import dev.gantry.runner.inference.DataType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRepositoryTest {
  @TempDir
  Path repo;

  @Test
  void findsTheExampleModelsIncludingTheMlflowDirectory() {
    ModelRepository r = new ModelRepository(TestModels.examples(), Optional.empty());
    assertThat(r.modelNames()).containsExactly("churn-mlflow", "churn-onnx", "churn-torchscript", "customer-churn");
    ModelDefinition mlflow = r.read("churn-mlflow");
    assertThat(mlflow.mlflow()).isTrue();
    assertThat(mlflow.config().platform()).isEqualTo(Platform.PYTORCH);
    assertThat(mlflow.config().maxBatchSize()).isEqualTo(64);
    assertThat(mlflow.config().inputs()).singleElement().satisfies(in -> {
      assertThat(in.datatype()).isEqualTo(DataType.FP32);
      assertThat(in.dims()).containsExactly(3);
      assertThat(in.parameters()).containsEntry(MlflowModel.COLUMNS_PARAMETER, "tenure,monthly_charges,total_charges");
    });
    assertThat(mlflow.versions()).containsOnlyKeys(1L);
    assertThat(mlflow.versions().get(1L).getFileName().toString()).isEqualTo("model.pth");
  }

  @Test
  void versionPolicyPicksTheVersionsToServe() throws IOException {
    Path model = TestModels.copyModel(TestModels.examples().resolve("churn-torchscript"), repo, "mlp");
    TestModels.copyModel(model.resolve("1"), model, "2");
    TestModels.copyModel(model.resolve("1"), model, "10");
    ModelRepository r = new ModelRepository(repo, Optional.empty());
    assertThat(r.read("mlp").versions()).containsOnlyKeys(10L);
    Files.writeString(model.resolve("config.yaml"), Files.readString(model.resolve("config.yaml"))
        + "version_policy: {latest: 2}\n");
    assertThat(r.read("mlp").versions()).containsOnlyKeys(2L, 10L);
    Files.writeString(model.resolve("config.yaml"), Files.readString(model.resolve("config.yaml"))
        .replace("{latest: 2}", "{all: true}"));
    assertThat(r.read("mlp").versions()).containsOnlyKeys(1L, 2L, 10L);
    Files.writeString(model.resolve("config.yaml"), Files.readString(model.resolve("config.yaml"))
        .replace("{all: true}", "{specific: [3]}"));
    assertThatThrownBy(() -> r.read("mlp")).hasMessageContaining("version_policy.specific")
        .hasMessageContaining("[3]").hasMessageContaining("fix:");
  }

  @Test
  void aMissingModelFileNamesThePathAndTheExpectedName() throws IOException {
    Path model = TestModels.copyModel(TestModels.examples().resolve("churn-torchscript"), repo, "mlp");
    Files.move(model.resolve("1/model.pt"), model.resolve("1/weights.pt"));
    assertThatThrownBy(() -> new ModelRepository(repo, Optional.empty()).read("mlp"))
        .hasMessageContaining(model.resolve("1/model.pt").toString())
        .hasMessageContaining("expects its model file named model.pt");
  }

  @Test
  void theDeviceOverrideAppliesToEveryModel() {
    ModelRepository r = new ModelRepository(TestModels.examples(), Optional.of(new DeviceSpec(true, 0)));
    assertThat(r.read("churn-onnx").config().device()).isEqualTo(new DeviceSpec(true, 0));
  }

  @Test
  void anMlflowDirectoryWithoutAnUsableFlavorIsRejected() throws IOException {
    Path model = Files.createDirectories(repo.resolve("sk"));
    Files.writeString(model.resolve("MLmodel"), "flavors:\n  sklearn:\n    pickled_model: model.pkl\n");
    assertThatThrownBy(() -> new ModelRepository(repo, Optional.empty()).read("sk"))
        .hasMessageContaining("MLmodel").hasMessageContaining("'flavors.sklearn'")
        .hasMessageContaining("skl2onnx.to_onnx").hasMessageContaining("mlflow.onnx");
  }

  @Test
  void anMlflowDirectoryWithAFrameworkGantryHasNoEngineForNamesIt() throws IOException {
    Path model = Files.createDirectories(repo.resolve("tf"));
    Files.writeString(model.resolve("MLmodel"), "flavors:\n  tensorflow:\n    saved_model_dir: tfmodel\n"
        + "  python_function:\n    loader_module: mlflow.tensorflow\n");
    assertThatThrownBy(() -> new ModelRepository(repo, Optional.empty()).read("tf"))
        .hasMessageContaining("'flavors' has flavor(s) [tensorflow]").hasMessageContaining("onnx");
  }

  @Test
  void anXgboostVersionFolderMayHoldItsModelAsJsonOrUbjson() throws IOException {
    for (String file : List.of("model.json", "model.ubj")) {
      Path model = Files.createDirectories(repo.resolve("xgb-" + file.substring(6)).resolve("1"));
      Files.writeString(model.getParent().resolve("config.yaml"), "platform: xgboost\n");
      Files.writeString(model.resolve(file), "{}");
      ModelDefinition d = new ModelRepository(repo, Optional.empty()).read("xgb-" + file.substring(6));
      assertThat(d.versions().get(1L)).isEqualTo(model.resolve(file));
      assertThat(d.config().maxBatchSize()).isEqualTo(MlflowModel.DEFAULT_MAX_BATCH_SIZE);
    }
  }

  @Test
  void aTreeModelsConfigMayNotListTensors() throws IOException {
    Path model = Files.createDirectories(repo.resolve("lgb").resolve("1"));
    Files.writeString(model.getParent().resolve("config.yaml"),
        "platform: lightgbm\ninputs:\n  - {name: input, datatype: FP32, dims: [4]}\n");
    Files.writeString(model.resolve("model.lgb"), "tree\n");
    assertThatThrownBy(() -> new ModelRepository(repo, Optional.empty()).read("lgb"))
        .hasMessageContaining("config.yaml").hasMessageContaining("'inputs'")
        .hasMessageContaining("platform 'lightgbm'").hasMessageContaining("remove it");
  }
}
