package dev.gantry.sidecar.adapter.mlflow;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import dev.gantry.sidecar.core.SidecarException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code text/csv} scoring requests, read as MLflow's scoring server reads them: with {@code pandas.read_csv} and its
 * defaults (tested against what pandas 1.5 gives, {@code src/test/resources/csv/reference.json}). Jackson's CSV
 * module splits the records (RFC 4180 quoting, CRLF, newlines inside quotes); on top of it, as pandas does:
 * <ul>
 *   <li>the first row names the columns, as written; blank lines are skipped;
 *   <li>an empty field, quoted or not, and pandas' NA markers ({@code NA}, {@code NaN}, {@code null}, {@code N/A},
 *       …) are missing values;
 *   <li>each column gets one type: booleans ({@code True}/{@code false}…) when every value is one and none is
 *       missing; whole numbers (int64) when every value is one and none is missing; numbers (float64, a missing value
 *       as NaN) when every present value is a number; otherwise text, as written, a missing value as null;
 *   <li>a short row is padded with missing values; a row longer than the header is refused.
 * </ul>
 */
final class Csv {
  /**
   * The columns and rows; a cell is a {@link Boolean}, {@link Long}, {@link Double} (NaN: missing), a {@link String}
   * or null (a missing text value).
   */
  record Table(List<String> header, List<List<Object>> rows) {}

  /** pandas 1.5's default NA markers ({@code pandas._libs.parsers.STR_NA_VALUES}). */
  static final Set<String> NA = Set.of("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
      "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null");
  private static final Set<String> TRUE = Set.of("True", "TRUE", "true");
  private static final Set<String> FALSE = Set.of("False", "FALSE", "false");
  private static final Pattern WHOLE = Pattern.compile("\\s*[+-]?\\d{1,19}\\s*");
  private static final Pattern DECIMAL = Pattern.compile(
      "\\s*[+-]?(\\d+\\.?\\d*([eE][+-]?\\d+)?|\\.\\d+([eE][+-]?\\d+)?|inf|Inf|INF|infinity|Infinity)\\s*");
  // blank lines are skipped below, not by the parser: its SKIP_EMPTY_LINES also drops a line's leading spaces
  private static final CsvMapper MAPPER = CsvMapper.builder().enable(CsvParser.Feature.WRAP_AS_ARRAY).build();

  private Csv() {}

  static Table parse(String text) {
    List<List<String>> records = new ArrayList<>();
    try (MappingIterator<List<String>> it = MAPPER.readerForListOf(String.class).readValues(text)) {
      while (it.hasNextValue()) {
        List<String> record = it.nextValue();
        if (!(record.size() == 1 && record.get(0).isEmpty())) {
          records.add(record);
        }
      }
    } catch (IOException | RuntimeException e) {
      throw SidecarException.invalid("the CSV body cannot be read: " + e.getMessage().lines().findFirst().orElse(""));
    }
    if (records.size() < 2) {
      throw SidecarException.invalid("CSV needs a header row naming the columns and at least one data row");
    }
    List<String> header = records.get(0);
    int width = header.size();
    List<List<String>> cells = new ArrayList<>();
    for (int r = 1; r < records.size(); r++) {
      List<String> row = new ArrayList<>(records.get(r));
      if (row.size() > width) {
        throw SidecarException.invalid("CSV row " + r + " has " + row.size() + " fields but the header names "
            + width + " columns");
      }
      while (row.size() < width) {
        row.add("");
      }
      cells.add(row);
    }
    List<List<Object>> rows = new ArrayList<>();
    cells.forEach(c -> rows.add(new ArrayList<>(c.size())));
    for (int c = 0; c < width; c++) {
      column(cells, rows, c);
    }
    return new Table(List.copyOf(header), rows);
  }

  /** Types column {@code c} as pandas would and adds its cells to {@code rows}. */
  private static void column(List<List<String>> cells, List<List<Object>> rows, int c) {
    boolean missing = false;
    int present = 0;
    boolean bools = true;
    boolean wholes = true;
    boolean numbers = true;
    for (List<String> row : cells) {
      String v = row.get(c);
      if (NA.contains(v)) {
        missing = true;
        continue;
      }
      present++;
      bools &= TRUE.contains(v) || FALSE.contains(v);
      wholes &= WHOLE.matcher(v).matches() && fitsLong(v.trim());
      numbers &= DECIMAL.matcher(v).matches();
    }
    // a column with no value at all is float64 NaN in pandas
    bools &= present > 0;
    for (int r = 0; r < cells.size(); r++) {
      String v = cells.get(r).get(c);
      Object cell;
      if (bools && !missing) {
        cell = TRUE.contains(v);
      } else if (wholes && !missing) {
        cell = Long.parseLong(plain(v));
      } else if ((wholes || numbers) && !bools) {
        cell = NA.contains(v) ? Double.NaN : number(v);
      } else {
        cell = NA.contains(v) ? null : v;
      }
      rows.get(r).add(cell);
    }
  }

  private static boolean fitsLong(String s) {
    try {
      Long.parseLong(plain(s));
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static String plain(String s) {
    String t = s.trim();
    return t.startsWith("+") ? t.substring(1) : t;
  }

  private static double number(String s) {
    String t = plain(s).toLowerCase(java.util.Locale.ROOT);
    if (t.equals("inf") || t.equals("infinity")) {
      return Double.POSITIVE_INFINITY;
    }
    if (t.equals("-inf") || t.equals("-infinity")) {
      return Double.NEGATIVE_INFINITY;
    }
    return Double.parseDouble(t);
  }
}
