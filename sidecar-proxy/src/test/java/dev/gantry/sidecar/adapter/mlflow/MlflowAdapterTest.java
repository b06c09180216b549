package dev.gantry.sidecar.adapter.mlflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.Http.Reply;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import dev.gantry.sidecar.StackExtension;
import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** MLflow's scoring protocol: every input format, on the ONNX pipeline and on the MLflow model. */
class MlflowAdapterTest {
  private static final double ONNX_ROW0 = 0.9092077612876892;
  private static final double MLP_ROW0 = 0.6173408627510071;
  @RegisterExtension
  static final StackExtension stack = new StackExtension("churn-onnx");
  private static Sidecar mlflowSidecar;
  private static Http mlflow;

  @BeforeAll
  static void start() {
    mlflowSidecar = Sidecar.start(SidecarConfig.forRunner(stack.runner().grpcPort(), "churn-mlflow"));
    mlflow = new Http(mlflowSidecar.port());
  }

  @AfterAll
  static void stop() {
    mlflowSidecar.close();
  }

  private static double churn(Reply r, int row) {
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.json().getJsonArray("predictions").getJsonArray(row).getDouble(1);
  }

  @Test
  void aContentTypeWithAForeignCharsetOrUnknownParametersIs415AsInMlflowsScoringServer() {
    String body = "{\"inputs\": [[12, 70.35, 844.2]]}";
    Reply latin1 = stack.http().post("/invocations", "application/json; charset=latin-1", body);
    assertThat(latin1.status()).isEqualTo(415);
    assertThat(latin1.json().getString("error_code")).isEqualTo("BAD_REQUEST");
    assertThat(latin1.json().getString("message")).contains("charset 'latin-1'");
    Reply param = stack.http().post("/invocations", "application/json; format=pandas-split", body);
    assertThat(param.status()).isEqualTo(415);
    assertThat(param.json().getString("message")).contains("'format'");
    Reply utf8 = stack.http().post("/invocations", "application/json; charset=UTF-8",
        "{\"dataframe_records\": [{\"tenure\": 12, \"monthly_charges\": 70.35, \"total_charges\": 844.2,"
            + " \"contract_type\": \"One year\", \"payment_method\": \"Mailed check\"}]}");
    assertThat(utf8.status()).isEqualTo(200);
  }

  @Test
  void theIssueBodyAnswersChurnProbabilities() {
    Reply r = stack.http().postJson("/invocations", "{\"dataframe_records\": [{\"tenure\": 12, \"monthly_charges\":"
        + " 70.35, \"total_charges\": 844.20, \"contract_type\": \"Month-to-month\", \"payment_method\":"
        + " \"Electronic check\"}]}");
    assertThat(churn(r, 0)).isCloseTo(ONNX_ROW0, within(1e-5));
    assertThat(r.json().getJsonArray("predictions").getJsonArray(0).getDouble(0)).isCloseTo(1 - ONNX_ROW0, within(1e-5));
  }

  @Test
  void dataframeSplitMapsNamedColumnsToInputsInAnyOrder() {
    Reply r = stack.http().postJson("/invocations", "{\"dataframe_split\": {\"columns\": [\"payment_method\","
        + " \"contract_type\", \"total_charges\", \"monthly_charges\", \"tenure\"], \"data\": [[\"Electronic check\","
        + " \"Month-to-month\", 844.2, 70.35, 12], [\"Credit card (automatic)\", \"Two year\", 1506, 25.1, 60]]}}");
    assertThat(churn(r, 0)).isCloseTo(ONNX_ROW0, within(1e-5));
    assertThat(churn(r, 1)).isCloseTo(0.00828563142567873, within(1e-5));
  }

  @Test
  void instancesAndCsvWork() {
    Reply instances = stack.http().postJson("/invocations", "{\"instances\": [{\"tenure\": 12, \"monthly_charges\":"
        + " 70.35, \"total_charges\": 844.2, \"contract_type\": \"Month-to-month\", \"payment_method\":"
        + " \"Electronic check\"}]}");
    assertThat(churn(instances, 0)).isCloseTo(ONNX_ROW0, within(1e-5));
    Reply csv = stack.http().post("/invocations", "text/csv", "tenure,monthly_charges,total_charges,contract_type,"
        + "payment_method\n12,70.35,844.2,Month-to-month,Electronic check\n60,25.1,1506,Two year,"
        + "\"Credit card (automatic)\"\n");
    assertThat(churn(csv, 0)).isCloseTo(ONNX_ROW0, within(1e-5));
    assertThat(churn(csv, 1)).isCloseTo(0.00828563142567873, within(1e-5));
    // as pandas reads it: quoted numbers are numbers, spaces around a number do not matter, a blank line is skipped
    Reply quoted = stack.http().post("/invocations", "text/csv", "tenure,monthly_charges,total_charges,contract_type,"
        + "payment_method\r\n\"12\", 70.35 ,844.2,Month-to-month,Electronic check\r\n\r\n");
    assertThat(churn(quoted, 0)).isCloseTo(ONNX_ROW0, within(1e-5));
    // a missing text value is refused naming its input (pandas gives NaN, which MLflow's schema check refuses too)
    Reply missing = stack.http().post("/invocations", "text/csv", "tenure,monthly_charges,total_charges,"
        + "contract_type,payment_method\n12,70.35,844.2,,Electronic check\n");
    assertThat(missing.status()).isEqualTo(400);
    assertThat(missing.json().getString("message")).contains("contract_type");
    Reply wide = stack.http().post("/invocations", "text/csv", "tenure,monthly_charges\n1,2,3\n");
    assertThat(wide.status()).isEqualTo(400);
    assertThat(wide.json().getString("message")).contains("row 1 has 3 fields");
  }

  @Test
  void namedTensorInputsAcceptPlainListsForColumnInputs() {
    Reply r = stack.http().postJson("/invocations", "{\"inputs\": {\"tenure\": [12], \"monthly_charges\": [70.35],"
        + " \"total_charges\": [844.2], \"contract_type\": [\"Month-to-month\"], \"payment_method\":"
        + " [\"Electronic check\"]}}");
    assertThat(churn(r, 0)).isCloseTo(ONNX_ROW0, within(1e-5));
  }

  @Test
  void anMlflowSignatureOrdersColumnsIntoItsOneTensor() {
    Reply split = mlflow.postJson("/invocations", "{\"dataframe_split\": {\"columns\": [\"total_charges\","
        + " \"tenure\", \"monthly_charges\"], \"data\": [[844.2, 12, 70.35]]}}");
    assertThat(churn(split, 0)).isCloseTo(MLP_ROW0, within(1e-5));
    Reply records = mlflow.postJson("/invocations", "{\"dataframe_records\": [{\"tenure\": 12, \"monthly_charges\":"
        + " 70.35, \"total_charges\": 844.2}]}");
    assertThat(churn(records, 0)).isCloseTo(MLP_ROW0, within(1e-5));
    Reply inputs = mlflow.postJson("/invocations", "{\"inputs\": [[12, 70.35, 844.2]]}");
    assertThat(churn(inputs, 0)).isCloseTo(MLP_ROW0, within(1e-5));
    Reply named = mlflow.postJson("/invocations", "{\"inputs\": {\"input\": [[12, 70.35, 844.2]]}}");
    assertThat(churn(named, 0)).isCloseTo(MLP_ROW0, within(1e-5));
  }

  @Test
  void pingHealthAndVersion() {
    assertThat(stack.http().get("/ping").status()).isEqualTo(200);
    assertThat(stack.http().get("/health").status()).isEqualTo(200);
    assertThat(stack.http().get("/version").body()).isEqualTo(Sidecar.VERSION);
  }

  @Test
  void errorsComeInMlflowsShape() {
    Reply missing = stack.http().postJson("/invocations", "{\"dataframe_records\": [{\"tenure\": 12}]}");
    assertThat(missing.status()).isEqualTo(400);
    assertThat(missing.json().getString("error_code")).isEqualTo("BAD_REQUEST");
    assertThat(missing.json().getString("message")).contains("missing column 'monthly_charges'");

    Reply unknown = mlflow.postJson("/invocations", "{\"dataframe_records\": [{\"tenure\": 12, \"monthly_charges\":"
        + " 1, \"total_charges\": 2, \"age\": 3}]}");
    assertThat(unknown.status()).isEqualTo(400);
    assertThat(unknown.json().getString("message")).contains("unknown column 'age'");

    Reply two = stack.http().postJson("/invocations", "{\"instances\": [], \"inputs\": []}");
    assertThat(two.json().getString("message")).contains("exactly one of");

    Reply typed = stack.http().postJson("/invocations", "{\"dataframe_records\": [{\"tenure\": \"twelve\","
        + " \"monthly_charges\": 1, \"total_charges\": 2, \"contract_type\": \"One year\", \"payment_method\": \"x\"}]}");
    assertThat(typed.status()).isEqualTo(400);
    assertThat(typed.json().getString("message")).contains("input 'tenure'", "expected a number");

    Reply media = stack.http().post("/invocations", "application/xml", "<x/>");
    assertThat(media.status()).isEqualTo(415);
    assertThat(media.json().getString("error_code")).isEqualTo("BAD_REQUEST");

    Reply csv = stack.http().post("/invocations", "text/csv", "tenure\n");
    assertThat(csv.status()).isEqualTo(400);
    assertThat(csv.json().getString("message")).contains("header row");
  }

  @Test
  void predictionsForSeveralRowsComeInRowOrder() {
    Reply r = mlflow.postJson("/invocations", "{\"inputs\": [[12, 70.35, 844.2], [60, 25.1, 1506]]}");
    JsonArray p = r.json().getJsonArray("predictions");
    assertThat(p.size()).isEqualTo(2);
    assertThat(p.getJsonArray(1).getDouble(0)).isCloseTo(0.8796080350875854, within(1e-5));
  }

}
