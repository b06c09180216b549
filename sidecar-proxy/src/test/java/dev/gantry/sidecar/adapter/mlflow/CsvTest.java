package dev.gantry.sidecar.adapter.mlflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gantry.sidecar.core.SidecarException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The CSV reader against what pandas.read_csv (as MLflow's scoring server calls it) gives for the same bodies:
 * {@code src/test/resources/csv/reference.json}, made by {@code make_reference.py} with Debian's pandas 1.5.
 */
class CsvTest {
  static JsonObject reference() throws Exception {
    try (InputStream in = CsvTest.class.getResourceAsStream("/csv/reference.json")) {
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void readsEveryCaseAsPandasDoes() throws Exception {
    JsonObject ref = reference();
    int checked = 0;
    for (Map.Entry<String, Object> e : ref) {
      if (e.getKey().startsWith("_")) {
        continue;
      }
      JsonObject c = (JsonObject) e.getValue();
      String csv = c.getString("csv");
      if (c.containsKey("error")) {
        assertThatThrownBy(() -> Csv.parse(csv)).as(e.getKey()).isInstanceOf(SidecarException.class);
        checked++;
        continue;
      }
      if (c.getJsonObject("data").getJsonObject(c.getJsonArray("columns").getString(0)).getJsonArray("values")
          .isEmpty()) {
        // a header without rows: pandas gives an empty frame; Gantry refuses it, as there is nothing to predict
        assertThatThrownBy(() -> Csv.parse(csv)).as(e.getKey()).hasMessageContaining("at least one data row");
        checked++;
        continue;
      }
      Csv.Table t = Csv.parse(csv);
      List<String> columns = new ArrayList<>();
      c.getJsonArray("columns").forEach(x -> columns.add((String) x));
      assertThat(t.header()).as(e.getKey()).isEqualTo(columns);
      for (int col = 0; col < columns.size(); col++) {
        JsonObject expected = c.getJsonObject("data").getJsonObject(columns.get(col));
        JsonArray values = expected.getJsonArray("values");
        assertThat(t.rows()).as(e.getKey()).hasSize(values.size());
        for (int r = 0; r < values.size(); r++) {
          Object got = t.rows().get(r).get(col);
          Object want = values.getValue(r);
          String where = e.getKey() + " column " + columns.get(col) + " row " + r;
          switch (expected.getString("dtype")) {
            case "int64" -> assertThat(got).as(where).isEqualTo(((Number) want).longValue());
            case "float64" -> {
              assertThat(got).as(where).isInstanceOf(Double.class);
              if (want == null) {
                assertThat((Double) got).as(where).isNaN();
              } else {
                assertThat((Double) got).as(where).isEqualTo(((Number) want).doubleValue());
              }
            }
            case "bool" -> assertThat(got).as(where).isEqualTo(want);
            default -> assertThat(got).as(where).isEqualTo(want);
          }
        }
      }
      checked++;
    }
    assertThat(checked).isEqualTo(ref.size() - 1);
  }
}
