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

  static String experiments(List<JsonNode> items) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"EXPERIMENT", "REVISION", "CONTROL", "GOAL", "ALPHA", "PLANNED", "MIN SAMPLES",
        "FEEDBACK WINDOW"});
    for (JsonNode item : items) {
      JsonNode spec = item.path("spec");
      rows.add(new String[] {item.path("name").asText(), item.path("revision").asText(), spec.path("control").asText(),
          spec.path("goal").asText(), spec.path("alpha").asText("0.05"), spec.path("planned_samples").asText("10000"),
          spec.path("min_samples").asText("100"), spec.path("feedback_window_s").asText("3600") + " s"});
    }
    return rows.size() == 1 ? "no experiments" + System.lineSeparator() : render(rows);
  }

  static String rollouts(List<JsonNode> items) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"ROLLOUT", "REVISION", "ENDPOINT", "STABLE", "CANARY", "STEPS", "TRAFFIC"});
    for (JsonNode item : items) {
      JsonNode spec = item.path("spec");
      List<String> weights = new ArrayList<>();
      spec.path("steps").forEach(s -> weights.add(s.path("weight").asText()));
      rows.add(new String[] {item.path("name").asText(), item.path("revision").asText(), spec.path("endpoint").asText(),
          spec.path("stable").asText(), spec.path("canary").asText(), String.join("/", weights),
          spec.path("traffic").asText("sidecar")});
    }
    return rows.size() == 1 ? "no rollouts" + System.lineSeparator() : render(rows);
  }

  /** A rollout's status: where it is, its last checks and its decision log (the last {@code limit}). */
  static String rolloutStatus(JsonNode s, int limit) {
    StringBuilder out = new StringBuilder();
    String nl = System.lineSeparator();
    out.append("rollout ").append(s.path("name").asText()).append(": endpoint ").append(s.path("endpoint").asText())
        .append(", stable ").append(s.path("stable").asText()).append(", canary ").append(s.path("canary").asText())
        .append(nl);
    out.append("phase ").append(s.path("phase").asText());
    if (s.has("step")) {
      out.append(", step ").append(s.path("step").asInt() + 1).append(" of ").append(s.path("steps").asInt())
          .append(", canary weight ").append(s.path("canary_weight").asInt()).append(" %");
    }
    if (s.has("leader")) {
      out.append(", leader ").append(s.path("leader").asText()).append(" (epoch ").append(s.path("epoch").asLong())
          .append(")");
    }
    out.append(nl);
    if (s.hasNonNull("waiting")) {
      out.append("waiting: ").append(s.path("waiting").asText()).append(nl);
    }
    if (s.path("last_checks").size() > 0) {
      out.append(nl);
      out.append(render(checkRows(s.path("last_checks"))));
    }
    JsonNode log = s.path("decisions");
    if (log.size() > 0) {
      out.append(nl);
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"AT", "RESULT", "PHASE", "STEP", "WEIGHT", "REASON"});
      for (int i = Math.max(0, log.size() - limit); i < log.size(); i++) {
        JsonNode d = log.get(i);
        rows.add(new String[] {d.path("at").asText(), d.path("result").asText(), d.path("from").asText() + " -> "
            + d.path("to").asText(), String.valueOf(d.path("step").asInt() + 1), d.path("canary_weight").asText()
            + " %", d.path("reason").asText()});
      }
      out.append(render(rows));
    }
    return out.toString();
  }

  private static List<String[]> checkRows(JsonNode checks) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"CHECK", "VALUE", "THRESHOLD", "P-VALUE", "VERDICT"});
    for (JsonNode c : checks) {
      rows.add(new String[] {c.path("name").asText(), c.path("value").isNumber()
          ? String.format(java.util.Locale.ROOT, "%.4g", c.path("value").asDouble()) : "-", c.path("threshold").asText(),
          c.has("p_value") ? String.format(java.util.Locale.ROOT, "%.3g", c.path("p_value").asDouble()) : "-",
          c.path("verdict").asText()});
    }
    return rows;
  }

  /** An experiment's results: a table of variants, one of comparisons, and the sample-ratio check. */
  static String results(JsonNode r) {
    StringBuilder sb = new StringBuilder();
    sb.append("experiment ").append(r.path("experiment").asText()).append(": goal ").append(r.path("goal").asText())
        .append(", control ").append(r.path("control").asText()).append(", alpha ").append(r.path("alpha").asText())
        .append(", counts from ").append(r.path("members").asText()).append(" sidecar(s)").append(System.lineSeparator())
        .append(System.lineSeparator());
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"VARIANT", "WEIGHT", "EXPOSURES", "ERRORS", "ERROR RATE", "P50 MS", "P99 MS", "REWARDS",
        "MEAN REWARD"});
    for (JsonNode v : r.path("variants")) {
      rows.add(new String[] {v.path("name").asText() + (v.path("control").asBoolean() ? " (control)" : ""),
          v.path("weight").asText() + "%", v.path("exposures").asText(), v.path("errors").asText(),
          number(v.path("error_rate"), "%.4f"), number(v.path("latency_ms").path("p50"), "%.2f"),
          number(v.path("latency_ms").path("p99"), "%.2f"), v.path("reward").path("n").asText(),
          number(v.path("reward").path("mean"), "%.4f")});
    }
    sb.append(render(rows)).append(System.lineSeparator());
    List<String[]> comparisons = new ArrayList<>();
    comparisons.add(new String[] {"VARIANT", "VS", "METRIC", "DIFFERENCE", "ALWAYS-VALID INTERVAL", "P-VALUE",
        "VERDICT"});
    for (JsonNode c : r.path("comparisons")) {
      comparisons.add(new String[] {c.path("variant").asText(), c.path("against").asText(), c.path("metric").asText(),
          number(c.path("difference"), "%+.4f"), c.has("lower") ? String.format(java.util.Locale.ROOT,
              "[%+.4f, %+.4f]", c.path("lower").asDouble(), c.path("upper").asDouble()) : "-",
          number(c.path("p_value"), "%.4f"), c.path("verdict").asText()});
    }
    sb.append(render(comparisons)).append(System.lineSeparator());
    JsonNode srm = r.path("sample_ratio");
    sb.append("sample ratio: p = ").append(String.format(java.util.Locale.ROOT, "%.4f", srm.path("p_value").asDouble()))
        .append(srm.path("mismatch").asBoolean() ? "  MISMATCH: the split is not what its weights say; do not trust"
            + " the differences" : "  (consistent with the weights)").append(System.lineSeparator());
    return sb.toString();
  }

  private static String number(JsonNode n, String format) {
    return n.isNumber() ? String.format(java.util.Locale.ROOT, format, n.asDouble()) : "-";
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

  static String aliasRollouts(JsonNode body) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"ROLLOUT", "ENDPOINT", "MODEL", "VERSION", "FROM", "STATE", "NOTE"});
    for (JsonNode h : body.path("items")) {
      rows.add(new String[] {h.path("rollout").asText(), h.path("endpoint").asText(), h.path("model").asText(),
          h.path("version").asText(), h.path("previous").asText(), h.path("state").asText(),
          h.path("note").asText("")});
    }
    if (rows.size() == 1) {
      return "no alias rollouts (an endpoint's rollout_policy starts one when a runner watching an alias with"
          + " on_new_version: rollout loads a new version)" + System.lineSeparator();
    }
    return render(rows);
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
