package dev.gantry.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gantry.runner.TestModels;
import dev.gantry.runner.inference.DataType;
import dev.gantry.runner.inference.Tensor;
import dev.gantry.runner.repository.ConfigException;
import dev.gantry.runner.repository.DeviceSpec;
import dev.gantry.runner.repository.ModelDefinition;
import dev.gantry.runner.repository.ModelRepository;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelLoaderTest {
  @TempDir
  Path repo;

  @Test
  void askingForAGpuThatIsNotThereFailsLoudlyAtLoad() {
    ModelRepository r = new ModelRepository(TestModels.examples(), Optional.of(new DeviceSpec(true, 7)));
    ModelDefinition def = r.read("churn-torchscript");
    assertThatThrownBy(() -> new ModelLoader().load(def.config(), def.versions().get(1L)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("asks for gpu:7")
        .hasMessageContaining("GPU(s) on this machine")
        .hasMessageContaining("set 'device: cpu'");
  }

  @Test
  void onnxTensorsComeFromTheGraphAndStringsRunThroughOneHotEncoding() {
    ModelDefinition def = new ModelRepository(TestModels.examples(), Optional.empty()).read("churn-onnx");
    try (LoadedModel model = new ModelLoader().load(def.config(), def.versions().get(1L));
        LoadedModel.Instance instance = model.newInstance()) {
      assertThat(model.signature().inputs()).extracting(s -> s.datatype()).containsExactly(
          DataType.FP32, DataType.FP32, DataType.FP32, DataType.BYTES, DataType.BYTES);
      long[] shape = {2, 1};
      List<Tensor> out = instance.run(List.of(
          Tensor.ofFloats("tenure", shape, 12, 60),
          Tensor.ofFloats("monthly_charges", shape, 70.35f, 25.1f),
          Tensor.ofFloats("total_charges", shape, 844.2f, 1506f),
          Tensor.ofUtf8("contract_type", shape, "Month-to-month", "Two year"),
          Tensor.ofUtf8("payment_method", shape, "Electronic check", "Credit card (automatic)")));
      float[] p = out.get(0).asFloats();
      double[] python = {0.09079227596521378, 0.9092077612876892, 0.9917142987251282, 0.00828563142567873};
      for (int i = 0; i < 4; i++) {
        assertThat((double) p[i]).isCloseTo(python[i], org.assertj.core.api.Assertions.within(1e-5));
      }
    }
  }

  @Test
  void aFileThatIsNotTorchScriptIsRejectedWithTheFix() throws Exception {
    Path model = TestModels.copyModel(TestModels.examples().resolve("churn-torchscript"), repo, "mlp");
    Files.writeString(model.resolve("1/model.pt"), "not a model");
    ModelDefinition def = new ModelRepository(repo, Optional.empty()).read("mlp");
    assertThatThrownBy(() -> new ModelLoader().load(def.config(), def.versions().get(1L)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(model.resolve("1/model.pt").toString())
        .hasMessageContaining("not a TorchScript archive").hasMessageContaining("torch.jit.script(model).save(path)");
  }

  @Test
  void anOnnxConfigThatContradictsTheGraphIsRejected() throws Exception {
    Path model = TestModels.copyModel(TestModels.examples().resolve("churn-onnx"), repo, "pipe");
    Files.writeString(model.resolve("config.yaml"), Files.readString(model.resolve("config.yaml"))
        + "inputs:\n  - {name: tenure, datatype: FP64, dims: [1]}\n");
    ModelDefinition def = new ModelRepository(repo, Optional.empty()).read("pipe");
    assertThatThrownBy(() -> new ModelLoader().load(def.config(), def.versions().get(1L)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("declares 'tenure' as FP64 but the ONNX graph has FP32");
  }
}
