package dev.gantry.runner.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gantry.runner.batching.QueueDelayPolicy;
import dev.gantry.runner.inference.DataType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ModelConfigParserTest {
  private static final String VALID = String.join("\n",
      "platform: pytorch",
      "max_batch_size: 8",
      "inputs:",
      "  - {name: input, datatype: FP32, dims: [3]}",
      "outputs:",
      "  - {name: probabilities, datatype: FP32, dims: [2]}",
      "");

  @TempDir
  Path dir;

  private ModelConfig parse(String yaml) throws IOException {
    Path file = dir.resolve("config.yaml");
    Files.writeString(file, yaml);
    return new ModelConfigParser().parse(file, "mlp", Optional.empty());
  }

  @Test
  void readsEveryKeyWithItsMeaning() throws IOException {
    ModelConfig c = parse(VALID + String.join("\n",
        "dynamic_batching:",
        "  max_queue_delay_microseconds: 250",
        "  preferred_batch_sizes: [4, 2]",
        "  max_queue_size: 7",
        "  queue_delay_policy: always",
        "instance_count: 2",
        "device: gpu:1",
        "warmup: {iterations: 3, batch_size: 2}",
        "version_policy: {specific: [1, 3]}",
        ""));
    assertThat(c.platform()).isEqualTo(Platform.PYTORCH);
    assertThat(c.maxBatchSize()).isEqualTo(8);
    assertThat(c.inputs().get(0).datatype()).isEqualTo(DataType.FP32);
    assertThat(c.inputs().get(0).dims()).containsExactly(3);
    assertThat(c.dynamicBatching()).hasValue(new BatchingConfig(250, List.of(2, 4), 7, QueueDelayPolicy.ALWAYS));
    assertThat(c.maxQueueSize()).isEqualTo(7);
    assertThat(c.instanceCount()).isEqualTo(2);
    assertThat(c.device()).isEqualTo(new DeviceSpec(true, 1));
    assertThat(c.warmup()).isEqualTo(new WarmupConfig(3, 2));
    assertThat(c.versionPolicy()).isEqualTo(new VersionPolicy.Specific(java.util.Set.of(1L, 3L)));
  }

  @Test
  void defaultsAreSane() throws IOException {
    ModelConfig c = parse(VALID);
    assertThat(c.dynamicBatching()).isEmpty();
    assertThat(c.maxQueueSize()).isEqualTo(BatchingConfig.DEFAULT_MAX_QUEUE_SIZE);
    assertThat(c.instanceCount()).isEqualTo(1);
    assertThat(c.device()).isEqualTo(DeviceSpec.CPU);
    assertThat(c.warmup()).isEqualTo(WarmupConfig.DEFAULT);
    assertThat(c.versionPolicy()).isEqualTo(new VersionPolicy.Latest(1));
  }

  @Test
  void batchingWaitsForMoreOnlyWhileAnotherInstanceIsBusyUnlessToldOtherwise() throws IOException {
    assertThat(parse(VALID + "dynamic_batching: {}\n").dynamicBatching()).hasValue(new BatchingConfig(
        BatchingConfig.DEFAULT_MAX_QUEUE_DELAY_MICROS, List.of(), BatchingConfig.DEFAULT_MAX_QUEUE_SIZE,
        QueueDelayPolicy.WHEN_BUSY));
    assertThat(parse(VALID + "dynamic_batching: {queue_delay_policy: when_busy}\n").dynamicBatching()
        .map(BatchingConfig::queueDelayPolicy)).hasValue(QueueDelayPolicy.WHEN_BUSY);
  }

  static Stream<Arguments> broken() {
    return Stream.of(
        Arguments.of(VALID.replace("platform: pytorch", "platform: tensorflow"), "'platform'",
            "use 'pytorch', 'onnxruntime', 'xgboost' or 'lightgbm'"),
        Arguments.of(VALID.replace("platform: pytorch\n", ""), "'platform' is missing", "add 'platform:"),
        Arguments.of(VALID.replace("max_batch_size: 8", "max_batch_size: -1"), "'max_batch_size'", "whole number"),
        Arguments.of(VALID.replace("datatype: FP32, dims: [3]", "datatype: FLOAT, dims: [3]"),
            "'inputs[0].datatype'", "use one of BOOL"),
        Arguments.of(VALID.replace("dims: [3]", "dims: [0]"), "'inputs[0].dims'", "-1 for a variable size"),
        Arguments.of(VALID.replace("dims: [3]", "dims: 3"), "'inputs[0].dims'", "dims: [3]"),
        Arguments.of(VALID.replace("inputs:\n  - {name: input, datatype: FP32, dims: [3]}\n", ""), "'inputs'",
            "list each tensor"),
        Arguments.of(VALID + "max_batch: 4\n", "'max_batch' is not a known key", "max_batch_size"),
        Arguments.of(VALID.replace("max_batch_size: 8", "max_batch_size: 0") + "dynamic_batching: {}\n",
            "'dynamic_batching'", "set max_batch_size"),
        Arguments.of(VALID + "dynamic_batching: {preferred_batch_sizes: [16]}\n",
            "'dynamic_batching.preferred_batch_sizes'", "no larger than max_batch_size"),
        Arguments.of(VALID + "dynamic_batching: {max_queue_delay: 5}\n",
            "'dynamic_batching.max_queue_delay' is not a known key", "max_queue_delay_microseconds"),
        Arguments.of(VALID + "dynamic_batching: {queue_delay_policy: sometimes}\n",
            "'dynamic_batching.queue_delay_policy' has unknown value 'sometimes'", "use one of [when_busy, always]"),
        Arguments.of(VALID + "dynamic_batching: {queue_delay_policy: [always]}\n",
            "'dynamic_batching.queue_delay_policy' must be a name, got [\"always\"]", "'always' whenever a batch is short"),
        Arguments.of(VALID + "device: tpu\n", "'device'", "'gpu:N'"),
        Arguments.of(VALID + "instance_count: 0\n", "'instance_count'", "from 1 to 64"),
        Arguments.of(VALID + "version_policy: {latest: 1, all: true}\n", "'version_policy'", "exactly one"),
        Arguments.of(VALID + "name: other\n", "'name'", "make it 'mlp'"),
        Arguments.of("platform: [pytorch\n", "not valid YAML", "correct the YAML"));
  }

  @ParameterizedTest
  @MethodSource("broken")
  void aBrokenConfigNamesTheFileTheKeyAndTheFix(String yaml, String key, String fix) {
    assertThatThrownBy(() -> parse(yaml)).isInstanceOf(ConfigException.class)
        .hasMessageContaining(dir.resolve("config.yaml").toString())
        .hasMessageContaining(key)
        .hasMessageContaining("fix: ")
        .hasMessageContaining(fix);
  }
}
