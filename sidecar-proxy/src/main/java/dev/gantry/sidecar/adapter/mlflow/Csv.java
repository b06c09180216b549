package dev.gantry.sidecar.adapter.mlflow;

import dev.gantry.sidecar.core.SidecarException;
import java.util.ArrayList;
import java.util.List;

/** A small RFC 4180 reader for {@code text/csv} scoring requests: a header row, then data rows. */
final class Csv {
  record Table(List<String> header, List<List<Object>> rows) {}

  private Csv() {}

  static Table parse(String text) {
    List<List<String>> records = new ArrayList<>();
    List<String> record = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    boolean fieldStarted = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
          field.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          field.append(c);
        }
      } else if (c == '"' && field.length() == 0) {
        quoted = true;
        fieldStarted = true;
      } else if (c == ',') {
        record.add(field.toString());
        field.setLength(0);
        fieldStarted = true;
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
          i++;
        }
        if (fieldStarted || field.length() > 0 || !record.isEmpty()) {
          record.add(field.toString());
          records.add(record);
        }
        record = new ArrayList<>();
        field.setLength(0);
        fieldStarted = false;
      } else {
        field.append(c);
        fieldStarted = true;
      }
    }
    if (quoted) {
      throw SidecarException.invalid("CSV ends inside a quoted field");
    }
    if (fieldStarted || field.length() > 0 || !record.isEmpty()) {
      record.add(field.toString());
      records.add(record);
    }
    if (records.size() < 2) {
      throw SidecarException.invalid("CSV needs a header row naming the columns and at least one data row");
    }
    List<List<Object>> rows = new ArrayList<>();
    for (List<String> r : records.subList(1, records.size())) {
      rows.add(new ArrayList<>(r));
    }
    return new Table(records.get(0).stream().map(String::trim).toList(), rows);
  }
}
