package dev.gantry.runner.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** S3 settings are read from the variables MLflow's and AWS's clients read, in their order of precedence. */
class S3SettingsTest {
  @Test
  void withNothingSetItIsAwsS3InTheDefaultRegionWithTheSdksOwnCredentialChain() {
    S3Settings s = S3Settings.from(Map.of());
    assertThat(s.region()).isEqualTo(S3Settings.DEFAULT_REGION);
    assertThat(s.endpoint()).isEmpty();
    assertThat(s.keys()).isEmpty();
    assertThat(s.profile()).isEmpty();
    assertThat(s.describe()).isEqualTo("AWS S3 in region us-east-1 (the default; set AWS_REGION to change it)");
  }

  @Test
  void awsRegionWinsOverAwsDefaultRegion() {
    assertThat(S3Settings.from(Map.of("AWS_REGION", "eu-west-1", "AWS_DEFAULT_REGION", "us-west-2")).region())
        .isEqualTo("eu-west-1");
    S3Settings s = S3Settings.from(Map.of("AWS_DEFAULT_REGION", "us-west-2"));
    assertThat(s.region()).isEqualTo("us-west-2");
    assertThat(s.describe()).isEqualTo("AWS S3 in region us-west-2 (AWS_DEFAULT_REGION)");
  }

  @Test
  void mlflowsEndpointVariableWinsThenTheS3SpecificThenTheGenericOne() {
    Map<String, String> all = Map.of("MLFLOW_S3_ENDPOINT_URL", "http://minio:9000",
        "AWS_ENDPOINT_URL_S3", "http://ceph:7480", "AWS_ENDPOINT_URL", "http://localstack:4566");
    assertThat(S3Settings.from(all).endpoint()).hasValue(URI.create("http://minio:9000"));
    assertThat(S3Settings.from(all).endpointFrom()).isEqualTo("MLFLOW_S3_ENDPOINT_URL");
    S3Settings s3Specific = S3Settings.from(Map.of("MLFLOW_S3_ENDPOINT_URL", " ",
        "AWS_ENDPOINT_URL_S3", "https://ceph:7480", "AWS_ENDPOINT_URL", "http://localstack:4566"));
    assertThat(s3Specific.endpoint()).hasValue(URI.create("https://ceph:7480"));
    assertThat(s3Specific.describe()).isEqualTo("the S3-compatible store at https://ceph:7480 (AWS_ENDPOINT_URL_S3)");
    assertThat(S3Settings.from(Map.of("AWS_ENDPOINT_URL", "http://localstack:4566")).endpointFrom())
        .isEqualTo("AWS_ENDPOINT_URL");
  }

  @Test
  void anEndpointThatIsNotAnHttpUrlIsRejectedNamingItsVariable() {
    assertThatThrownBy(() -> S3Settings.from(Map.of("MLFLOW_S3_ENDPOINT_URL", "minio:9000")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("MLFLOW_S3_ENDPOINT_URL='minio:9000'", "http://minio:9000");
    assertThatThrownBy(() -> S3Settings.from(Map.of("AWS_ENDPOINT_URL_S3", "http://bad host")))
        .hasMessageContaining("AWS_ENDPOINT_URL_S3");
  }

  @Test
  void keysAreTakenTogetherWithAnOptionalSessionTokenAndNeverPrinted() {
    S3Settings s = S3Settings.from(Map.of("AWS_ACCESS_KEY_ID", "AKIA1", "AWS_SECRET_ACCESS_KEY", "s3cret",
        "AWS_SESSION_TOKEN", "tok"));
    assertThat(s.keys()).hasValueSatisfying(k -> {
      assertThat(k.accessKeyId()).isEqualTo("AKIA1");
      assertThat(k.secretAccessKey()).isEqualTo("s3cret");
      assertThat(k.sessionToken()).hasValue("tok");
    });
    assertThat(s.toString()).doesNotContain("s3cret", "tok");
    assertThat(S3Settings.from(Map.of("AWS_PROFILE", "models")).profile()).hasValue("models");
  }

  @Test
  void halfAKeyIsRejectedSayingWhichHalfIsMissing() {
    assertThatThrownBy(() -> S3Settings.from(Map.of("AWS_ACCESS_KEY_ID", "AKIA1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    assertThatThrownBy(() -> S3Settings.from(Map.of("AWS_SECRET_ACCESS_KEY", "s")))
        .hasMessageContaining("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  }
}
