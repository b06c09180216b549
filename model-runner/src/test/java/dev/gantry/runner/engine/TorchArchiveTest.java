package dev.gantry.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.runner.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What teams log instead of TorchScript, made by {@code fixtures/make_torch_pickles.py} with Debian's PyTorch: a
 * pickled nn.Module ({@code torch.save(model)}) and a state_dict are refused at load with what they are and how to
 * save TorchScript, in a model repository and in an MLflow {@code pytorch} flavor alike; the TorchScript twin loads
 * and answers. Nothing is unpickled to find out.
 */
class TorchArchiveTest {
  static final Path PICKLES = TestModels.fixtures().resolve("torch-pickles");
  static final String CONFIG = "platform: pytorch\nmax_batch_size: 8\ninputs: [{name: x, datatype: FP32, dims: [1]}]\n"
      + "outputs: [{name: y, datatype: FP32, dims: [1]}]\n";

  static void model(Path repo, String name, String file) throws Exception {
    Files.createDirectories(repo.resolve(name).resolve("1"));
    Files.copy(PICKLES.resolve(file), repo.resolve(name).resolve("1").resolve("model.pt"));
    Files.writeString(repo.resolve(name).resolve("config.yaml"), CONFIG);
  }

  @Test
  void pickledModulesAndStateDictsAreRefusedWithTheFixAndTorchScriptServes(@TempDir Path repo) throws Exception {
    model(repo, "pickled", "module.pth");
    model(repo, "weights", "state_dict.pth");
    model(repo, "scripted", "scripted.pt");
    Path mlflow = Files.createDirectories(repo.resolve("mlflow-pickled").resolve("data"));
    Files.copy(PICKLES.resolve("module.pth"), mlflow.resolve("model.pth"));
    Files.writeString(repo.resolve("mlflow-pickled").resolve("MLmodel"), """
        flavors:
          python_function:
            data: data
            loader_module: mlflow.pytorch
            pickle_module_name: mlflow.pytorch.pickle_module
          pytorch:
            model_data: data
            pytorch_version: 1.13.1
        mlflow_version: 2.1.1
        signature:
          inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1]}}]'
          outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1]}}]'
        """);
    try (ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(repo))) {
      assertThat(runner.models().served("scripted")).hasSize(1);
      assertThat(runner.models().failure("pickled")).hasValueSatisfying(f -> assertThat(f)
          .contains("pickled nn.Module (__main__.LinearNNModel)").contains("torch.jit.script(model).save(path)"));
      assertThat(runner.models().failure("mlflow-pickled")).hasValueSatisfying(f -> assertThat(f)
          .contains("pickled nn.Module").contains("mlflow.pytorch.log_model(torch.jit.script(model)"));
      assertThat(runner.models().failure("weights")).hasValueSatisfying(f -> assertThat(f)
          .contains("holds a state_dict").contains("load_state_dict"));
      // the runner is up and serves what it can
      assertThat(runner.models().modelReady("scripted", "")).isTrue();
    }
  }
}
