package dev.gantry.runner.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Model URIs in MLflow's forms (the registry cases follow MLflow's own tests of its model URI parser). */
class ModelUriTest {
  @Test
  void registryUrisNameAVersionAStageTheLatestOrAnAlias() {
    assertThat(ModelUri.parse("models:/AdsModel1/0")).isEqualTo(new ModelUri.Registered("models:/AdsModel1/0",
        "AdsModel1", Optional.of(0L), Optional.empty(), Optional.empty()));
    assertThat(ModelUri.parse("models:/Ads Model 1/12345")).isInstanceOfSatisfying(ModelUri.Registered.class,
        r -> assertThat(r.name()).isEqualTo("Ads Model 1"));
    assertThat(ModelUri.parse("models:/12345/67890")).isInstanceOfSatisfying(ModelUri.Registered.class, r -> {
      assertThat(r.name()).isEqualTo("12345");
      assertThat(r.version()).hasValue(67890L);
      assertThat(r.moves()).isFalse();
    });
    ModelUri.Registered stage = (ModelUri.Registered) ModelUri.parse("models:/customer-churn-classifier/Production");
    assertThat(stage.stage()).hasValue("Production");
    assertThat(stage.moves()).isTrue();
    assertThat(((ModelUri.Registered) ModelUri.parse("models:/m/pROduction")).stage()).hasValue("pROduction");
    ModelUri.Registered latest = (ModelUri.Registered) ModelUri.parse("models:/m/latest");
    assertThat(latest.latest()).isTrue();
    ModelUri.Registered alias = (ModelUri.Registered) ModelUri.parse("models:/customer-churn-classifier@champion");
    assertThat(alias.name()).isEqualTo("customer-churn-classifier");
    assertThat(alias.alias()).hasValue("champion");
    assertThat(alias.moves()).isTrue();
  }

  @Test
  void runArtifactS3AndLocalUris() {
    assertThat(ModelUri.parse("runs:/0a1b2c/model/sub")).isEqualTo(new ModelUri.Run("runs:/0a1b2c/model/sub",
        "0a1b2c", "model/sub"));
    assertThat(ModelUri.parse("mlflow-artifacts:/1/abc/artifacts/model"))
        .isEqualTo(new ModelUri.Artifacts("mlflow-artifacts:/1/abc/artifacts/model", "1/abc/artifacts/model"));
    assertThat(ModelUri.parse("s3://models/churn/v3")).isEqualTo(new ModelUri.S3("s3://models/churn/v3", "models",
        "churn/v3"));
    assertThat(ModelUri.parse("file:///srv/models/churn")).isInstanceOfSatisfying(ModelUri.Local.class,
        l -> assertThat(l.path()).isEqualTo(Path.of("/srv/models/churn")));
    assertThat(ModelUri.parse("examples/models/churn-mlflow")).isInstanceOfSatisfying(ModelUri.Local.class,
        l -> assertThat(l.path()).isEqualTo(Path.of("examples/models/churn-mlflow")));
  }

  @Test
  void malformedUrisAreRefusedSayingHowToWriteThem() {
    assertThatThrownBy(() -> ModelUri.parse("models:/")).hasMessageContaining("models:/<name>/<version>");
    assertThatThrownBy(() -> ModelUri.parse("models:/m")).hasMessageContaining("models:/<name>@<alias>");
    assertThatThrownBy(() -> ModelUri.parse("models:/m/1/2")).hasMessageContaining("not a registry URI");
    assertThatThrownBy(() -> ModelUri.parse("models:/m@")).hasMessageContaining("not a registry URI");
    assertThatThrownBy(() -> ModelUri.parse("runs:/only-an-id")).hasMessageContaining("runs:/<run_id>/<path");
    assertThatThrownBy(() -> ModelUri.parse("mlflow-artifacts:/")).hasMessageContaining("names no artifact path");
    assertThatThrownBy(() -> ModelUri.parse("gs://bucket/model")).hasMessageContaining("scheme gs");
    assertThatThrownBy(() -> ModelUri.parse(" ")).hasMessageContaining("empty");
    assertThatThrownBy(() -> ModelUri.parse("models:/m/99999999999999999999")).hasMessageContaining("too large");
  }
}
