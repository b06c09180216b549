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
