package dev.gantry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Plain-text tables for a terminal: one row per variant, columns padded to their widest cell. */
final class Tables {
  private Tables() {}

  static String endpoints(List<JsonNode> items) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"ENDPOINT", "REVISION", "STICKY KEY", "OVERRIDE", "VARIANT", "MODEL", "VERSION", "UPSTREAM",
        "WEIGHT"});
    for (JsonNode item : items) {
      JsonNode spec = item.path("spec");
      boolean first = true;
      for (JsonNode v : spec.path("variants")) {
        rows.add(new String[] {
            first ? item.path("name").asText() : "",
            first ? item.path("revision").asText() : "",
            first ? stickyKey(spec.path("sticky_key")) : "",
            first ? (spec.path("allow_override").asBoolean(false) ? "allowed" : "no") : "",
            v.path("name").asText(),
            v.path("model").asText(),
            v.path("version").asText("default"),
            v.path("upstream").asText("local"),
            v.path("weight").asInt() + "%"});
        first = false;
      }
    }
    if (rows.size() == 1) {
      return "no endpoints" + System.lineSeparator();
    }
    return render(rows);
  }

  static String shadows(List<JsonNode> items) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"ENDPOINT", "REVISION", "SHADOW VARIANT", "PERCENT", "TIMEOUT", "MAX IN FLIGHT",
        "KEEP DISAGREEMENTS"});
    for (JsonNode item : items) {
      JsonNode spec = item.path("spec");
      rows.add(new String[] {item.path("name").asText(), item.path("revision").asText(), spec.path("variant").asText(),
          spec.path("percent").asText() + "%", spec.path("timeout_ms").asText("1000") + " ms",
          spec.path("max_in_flight").asText("32"), spec.path("keep_disagreements").asText("100")});
    }
    return rows.size() == 1 ? "no shadows" + System.lineSeparator() : render(rows);
  }

  static String disagreements(JsonNode body) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"AT", "REQUEST ID", "MAX |DIFF|", "PRIMARY", "SHADOW"});
    for (JsonNode item : body.path("items")) {
      rows.add(new String[] {item.path("at").asText(), item.path("request_id").asText(),
          String.format(java.util.Locale.ROOT, "%.4f", item.path("max_abs_difference").asDouble()),
          side(item.path("primary")), side(item.path("shadow"))});
    }
    return rows.size() == 1 ? "no disagreements kept on " + body.path("member").asText() + System.lineSeparator()
        : render(rows);
  }

  private static String side(JsonNode side) {
    JsonNode first = side.path("outputs").path(0).path("data");
    return side.path("variant").asText() + " (" + side.path("model").asText() + "@" + side.path("version").asText()
        + ") " + first.toString();
  }

  private static String stickyKey(JsonNode key) {
    for (String source : new String[] {"header", "cookie", "metadata"}) {
      if (key.hasNonNull(source)) {
        return source + " " + key.path(source).asText();
      }
    }
    return "random";
  }

  static String render(List<String[]> rows) {
    int[] widths = new int[rows.get(0).length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        line.append(row[i]).append(" ".repeat(widths[i] - row[i].length() + (i == row.length - 1 ? 0 : 2)));
      }
      sb.append(line.toString().stripTrailing()).append(System.lineSeparator());
    }
    return sb.toString();
  }
}
