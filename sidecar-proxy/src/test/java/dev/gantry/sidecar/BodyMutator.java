package dev.gantry.sidecar;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Mutates valid request bodies for the decoder fuzz test: JSON values swapped for edge-case
 * numbers, wrong types, huge shapes and deep nesting; arrays nested and un-nested; keys dropped,
 * renamed and duplicated; CSV cells and lines changed; and the bytes themselves truncated, flipped
 * and replaced. Everything is drawn from one seeded {@link Random}, so a run can be repeated.
 */
final class BodyMutator {
  /** JSON text put in place of a value: edges of every datatype's range, wrong types, odd shapes. */
  private static final List<String> VALUES = List.of("0", "-0", "-1", "1.5", "1e3", "3.0", "-2E1", "1e400", "-1e400",
      "1e-400", "1e-999999999", "2147483648", "-2147483649", "4294967296", "9007199254740993",
      "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551615",
      "18446744073709551616", "1" + "0".repeat(400), "1e18", "null", "true", "false", "\"\"", "\"12\"",
      "\"1e400\"", "\"x\"", "\"\\u0000\"", "\"\\ud800\"", "{}", "[]", "[[]]", "[{}]", "[null]",
      "[1000000,1000000,0]", "[4294967296,4294967296]", "[9223372036854775807,2]", "[-1]", "[0]", "[0,3]", "[0,0]",
      "[1.5,2]", "[1e300]", "[2,3]", "[3,2]", "[1,3]", "[\"3\"]", "[[1,2],[[3],[4]]]", "[[1],[2,3]]",
      "{\"shape\":[0],\"values\":[]}", "{\"ndarray\":[[]]}", "\"" + "a".repeat(20_000) + "\"");
  private static final List<String> KEYS = List.of("inputs", "outputs", "instances", "data", "ndarray", "tensor",
      "shape", "values", "names", "columns", "dataframe_split", "dataframe_records", "params", "datatype", "name",
      "id", "meta", "strData", "tenure", "input", "contract_type");
  private static final List<String> DATATYPES = List.of("FP16", "BF16", "FP32", "FP64", "INT8", "INT16", "INT32",
      "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "BOOL", "BYTES", "FOO", "", "fp32");
  private static final List<String> CELLS = List.of("", "\"", "\"\"", "NaN", "Infinity", "-inf", "1e400", "1e3",
      "18446744073709551616", "0x10", "1,2", "\"a\nb\"", " 12 ", "true", "\u00e9", "a".repeat(5_000));
  private static final String RAW = "@@raw@@";
  private static final int MAX_GROWN = 5_000;

  private final Random random;

  BodyMutator(Random random) {
    this.random = random;
  }

  <T> T pick(List<T> list) {
    return list.get(random.nextInt(list.size()));
  }

  /** One to three structural changes to a JSON body, as text (some changes only text can hold). */
  String mutateJson(String body) {
    Object root = Json.decodeValue(body);
    List<String> raws = new ArrayList<>();
    int n = 1 + random.nextInt(3);
    for (int i = 0; i < n; i++) {
      root = mutateTree(root, raws);
    }
    String text = Json.encode(root);
    for (int i = 0; i < raws.size(); i++) {
      text = text.replace("\"" + RAW + i + "\"", raws.get(i));
    }
    return text;
  }

  private Object mutateTree(Object root, List<String> raws) {
    List<Slot> slots = new ArrayList<>();
    collect(root, slots, 0);
    if (slots.isEmpty()) {
      return root;
    }
    Slot s = pick(slots);
    Object v = s.get();
    switch (random.nextInt(9)) {
      case 0, 1 -> s.set(raw(raws, pick(VALUES)));
      case 2 -> s.set(new JsonArray().add(v));
      case 3 -> s.set(v instanceof JsonArray a && !a.isEmpty() ? a.getValue(random.nextInt(a.size())) : v);
      case 4 -> s.remove();
      case 5 -> s.set(v instanceof String ? pick(DATATYPES) : raw(raws, pick(VALUES)));
      case 6 -> {
        if (v instanceof JsonArray a && !a.isEmpty()) {
          int times = 1 + random.nextInt(random.nextBoolean() ? 3 : 200);
          JsonArray grown = new JsonArray();
          for (int t = 0; t < times && grown.size() < MAX_GROWN; t++) {
            a.forEach(grown::add);
          }
          s.set(grown);
        } else {
          s.set(raw(raws, deep(1 + random.nextInt(1200))));
        }
      }
      case 7 -> {
        if (s.parent() instanceof JsonObject o) {
          o.put(pick(KEYS), raw(raws, random.nextBoolean() ? pick(VALUES) : Json.encode(v)));
        }
      }
      default -> {
        if (s.parent() instanceof JsonObject o && s.key() != null) {
          // a duplicate key, which only the text can hold: "k": v, "k": other
          o.put(raw(raws, Json.encode(s.key())), raw(raws, pick(VALUES)));
          return root;
        }
        s.set(raw(raws, deep(1 + random.nextInt(1200))));
      }
    }
    return s.parent() == null ? s.get() : root;
  }

  private String raw(List<String> raws, String text) {
    raws.add(text);
    return RAW + (raws.size() - 1);
  }

  private String deep(int depth) {
    return "[".repeat(depth) + (random.nextBoolean() ? "1" : "") + "]".repeat(depth);
  }

  private static void collect(Object node, List<Slot> out, int depth) {
    if (depth == 0) {
      out.add(new Slot(null, null, -1, node));
    }
    if (node instanceof JsonObject o) {
      for (Map.Entry<String, Object> e : o) {
        out.add(new Slot(o, e.getKey(), -1, e.getValue()));
        collect(e.getValue(), out, depth + 1);
      }
    } else if (node instanceof JsonArray a) {
      for (int i = 0; i < a.size(); i++) {
        out.add(new Slot(a, null, i, a.getValue(i)));
        collect(a.getValue(i), out, depth + 1);
      }
    }
  }

  /** A place in the tree: a key of an object, an index of an array, or the root. */
  private static final class Slot {
    private final Object parent;
    private final String key;
    private final int index;
    private Object value;

    Slot(Object parent, String key, int index, Object value) {
      this.parent = parent;
      this.key = key;
      this.index = index;
      this.value = value;
    }

    Object parent() {
      return parent;
    }

    String key() {
      return key;
    }

    Object get() {
      return value;
    }

    void set(Object v) {
      value = v;
      if (parent instanceof JsonObject o) {
        o.put(key, v);
      } else if (parent instanceof JsonArray a) {
        a.set(index, v);
      }
    }

    void remove() {
      if (parent instanceof JsonObject o) {
        o.remove(key);
      } else if (parent instanceof JsonArray a) {
        a.set(index, null);
      } else {
        value = new JsonObject();
      }
    }
  }

  /** Changes cells, columns and lines of a CSV body. */
  String mutateCsv(String csv) {
    List<List<String>> lines = new ArrayList<>();
    for (String line : csv.split("\n", -1)) {
      lines.add(new ArrayList<>(Arrays.asList(line.split(",", -1))));
    }
    int n = 1 + random.nextInt(3);
    for (int i = 0; i < n; i++) {
      List<String> line = pick(lines);
      switch (random.nextInt(6)) {
        case 0, 1 -> line.set(random.nextInt(line.size()), pick(CELLS));
        case 2 -> line.add(pick(CELLS));
        case 3 -> {
          if (line.size() > 1) {
            line.remove(random.nextInt(line.size()));
          }
        }
        case 4 -> {
          List<String> copy = new ArrayList<>(pick(lines));
          for (int t = random.nextInt(100); t >= 0; t--) {
            lines.add(copy);
          }
        }
        default -> lines.remove(random.nextInt(lines.size()));
      }
      if (lines.isEmpty()) {
        lines.add(new ArrayList<>(List.of("")));
      }
    }
    StringBuilder b = new StringBuilder();
    for (List<String> line : lines) {
      b.append(String.join(",", line)).append(random.nextInt(10) == 0 ? "\r\n" : "\n");
    }
    return b.toString();
  }

  /** Byte-level damage: truncation, flipped or inserted bytes, a deleted range, or noise. */
  byte[] mutateBytes(byte[] body) {
    byte[] b = body.clone();
    switch (random.nextInt(5)) {
      case 0 -> b = Arrays.copyOf(b, b.length == 0 ? 0 : random.nextInt(b.length));
      case 1 -> {
        for (int i = random.nextInt(4); i >= 0 && b.length > 0; i--) {
          b[random.nextInt(b.length)] = (byte) random.nextInt(256);
        }
      }
      case 2 -> {
        int at = random.nextInt(b.length + 1);
        byte[] noise = new byte[1 + random.nextInt(8)];
        random.nextBytes(noise);
        byte[] out = new byte[b.length + noise.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(noise, 0, out, at, noise.length);
        System.arraycopy(b, at, out, at + noise.length, b.length - at);
        b = out;
      }
      case 3 -> {
        if (b.length > 1) {
          int from = random.nextInt(b.length);
          int to = Math.min(b.length, from + 1 + random.nextInt(32));
          byte[] out = new byte[b.length - (to - from)];
          System.arraycopy(b, 0, out, 0, from);
          System.arraycopy(b, to, out, from, b.length - to);
          b = out;
        }
      }
      default -> {
        b = new byte[random.nextInt(200)];
        random.nextBytes(b);
      }
    }
    return b;
  }

  /** Now and then a content type the endpoint does not take. */
  String contentType(String usual) {
    return switch (random.nextInt(40)) {
      case 0 -> null;
      case 1 -> "text/plain";
      case 2 -> "application/json; charset=utf-16";
      case 3 -> usual.equals("text/csv") ? "application/json" : "text/csv";
      case 4 -> "application/vnd.seldon+json";
      default -> usual;
    };
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
