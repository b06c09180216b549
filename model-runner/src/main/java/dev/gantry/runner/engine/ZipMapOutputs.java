package dev.gantry.runner.engine;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.UnknownFieldSet.Field;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Turns the ZipMap outputs of an ONNX graph (skl2onnx's {@code output_probability}: a sequence of
 * maps from class label to probability) back into the FP32 {@code [N, classes]} tensor that feeds
 * them, and reads their class labels.
 *
 * <p>Each ZipMap node whose output is a graph output becomes an {@code Identity} of its input, and
 * the output is declared as that tensor. ZipMap zips column i with {@code classlabels[i]}, so the
 * tensor's columns are in the order of the labels read here. Served this way, probabilities come
 * out of ONNX Runtime as one tensor, in class order, with their labels known; DJL 0.36's own
 * conversion of a sequence of maps keeps the values in the order of a Java {@code HashMap} over the
 * labels and drops the labels, so string classes come out in hash order.
 *
 * <p>The model is read at the protobuf wire level (field numbers from {@code onnx.proto}), so the
 * build needs no generated ONNX classes; only the fields involved are decoded, the rest is copied.
 */
final class ZipMapOutputs {
  private static final int MODEL_OPSET_IMPORT = 8;
  private static final int MODEL_GRAPH = 7;
  private static final int OPSET_DOMAIN = 1;
  private static final int OPSET_VERSION = 2;
  private static final int GRAPH_NODE = 1;
  private static final int GRAPH_OUTPUT = 12;
  private static final int GRAPH_VALUE_INFO = 13;
  private static final int NODE_INPUT = 1;
  private static final int NODE_OUTPUT = 2;
  private static final int NODE_OP_TYPE = 4;
  private static final int NODE_ATTRIBUTE = 5;
  private static final int NODE_DOMAIN = 7;
  private static final int ATTRIBUTE_NAME = 1;
  private static final int ATTRIBUTE_INTS = 8;
  private static final int ATTRIBUTE_STRINGS = 9;
  private static final int VALUE_INFO_NAME = 1;
  private static final int VALUE_INFO_TYPE = 2;
  private static final int TYPE_TENSOR = 1;
  private static final int TENSOR_ELEM_TYPE = 1;
  private static final int TENSOR_SHAPE = 2;
  private static final int SHAPE_DIM = 1;
  private static final int DIM_VALUE = 1;
  private static final int ELEM_FLOAT = 1;
  /** Identity needs the default domain; a graph that imports none gets this opset. */
  private static final int DEFAULT_OPSET = 13;

  /**
   * A graph with its ZipMap outputs served as tensors.
   *
   * @param model the rewritten model file
   * @param classes per rewritten output, its class labels in column order (Long or String)
   */
  record Unzipped(byte[] model, Map<String, List<Object>> classes) {}

  private ZipMapOutputs() {}

  /**
   * The model with its ZipMap outputs unwrapped, or empty when no graph output comes from a ZipMap.
   *
   * @throws InvalidProtocolBufferException when the bytes are not an ONNX model
   */
  static Optional<Unzipped> unwrap(byte[] model) throws InvalidProtocolBufferException {
    if (!mentionsZipMap(model)) {
      return Optional.empty();
    }
    UnknownFieldSet root = UnknownFieldSet.parseFrom(model);
    List<ByteString> graphs = lengthDelimited(root, MODEL_GRAPH);
    if (graphs.size() != 1) {
      return Optional.empty();
    }
    UnknownFieldSet graph = UnknownFieldSet.parseFrom(graphs.get(0));
    Set<String> outputs = lengthDelimited(graph, GRAPH_OUTPUT).stream()
        .map(v -> text(parse(v), VALUE_INFO_NAME)).collect(Collectors.toSet());
    Map<String, List<Object>> classes = new LinkedHashMap<>();
    List<ByteString> nodes = new ArrayList<>();
    for (ByteString bytes : lengthDelimited(graph, GRAPH_NODE)) {
      UnknownFieldSet node = parse(bytes);
      List<ByteString> nodeOutputs = lengthDelimited(node, NODE_OUTPUT);
      if (isZipMap(node) && nodeOutputs.size() == 1 && outputs.contains(nodeOutputs.get(0).toStringUtf8())) {
        classes.put(nodeOutputs.get(0).toStringUtf8(), labels(node));
        nodes.add(identity(node).toByteString());
      } else {
        nodes.add(bytes);
      }
    }
    if (classes.isEmpty()) {
      return Optional.empty();
    }
    UnknownFieldSet.Builder newGraph = UnknownFieldSet.newBuilder(graph)
        .clearField(GRAPH_NODE).addField(GRAPH_NODE, lengthDelimitedField(nodes));
    List<ByteString> newOutputs = new ArrayList<>();
    for (ByteString bytes : lengthDelimited(graph, GRAPH_OUTPUT)) {
      String name = text(parse(bytes), VALUE_INFO_NAME);
      newOutputs.add(classes.containsKey(name) ? probabilities(name, classes.get(name).size()) : bytes);
    }
    newGraph.clearField(GRAPH_OUTPUT).addField(GRAPH_OUTPUT, lengthDelimitedField(newOutputs));
    List<ByteString> valueInfos = lengthDelimited(graph, GRAPH_VALUE_INFO).stream()
        .filter(v -> !classes.containsKey(text(parse(v), VALUE_INFO_NAME))).toList();
    newGraph.clearField(GRAPH_VALUE_INFO);
    if (!valueInfos.isEmpty()) {
      newGraph.addField(GRAPH_VALUE_INFO, lengthDelimitedField(valueInfos));
    }
    UnknownFieldSet.Builder newModel = UnknownFieldSet.newBuilder(root).clearField(MODEL_GRAPH)
        .addField(MODEL_GRAPH, lengthDelimitedField(List.of(newGraph.build().toByteString())));
    if (!importsDefaultDomain(root)) {
      newModel.mergeField(MODEL_OPSET_IMPORT, lengthDelimitedField(List.of(UnknownFieldSet.newBuilder()
          .addField(OPSET_VERSION, Field.newBuilder().addVarint(DEFAULT_OPSET).build()).build().toByteString())));
    }
    return Optional.of(new Unzipped(newModel.build().toByteArray(), classes));
  }

  /** Whether the op type's name occurs at all: most models have none, and need not be decoded. */
  private static boolean mentionsZipMap(byte[] model) {
    byte[] name = {'Z', 'i', 'p', 'M', 'a', 'p'};
    outer:
    for (int i = 0; i + name.length <= model.length; i++) {
      for (int j = 0; j < name.length; j++) {
        if (model[i + j] != name[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private static boolean isZipMap(UnknownFieldSet node) {
    return text(node, NODE_OP_TYPE).equals("ZipMap") && text(node, NODE_DOMAIN).equals("ai.onnx.ml")
        && lengthDelimited(node, NODE_INPUT).size() == 1;
  }

  /** {@code classlabels_int64s} as Longs, or {@code classlabels_strings} as Strings. */
  private static List<Object> labels(UnknownFieldSet node) {
    List<Object> labels = new ArrayList<>();
    for (ByteString bytes : lengthDelimited(node, NODE_ATTRIBUTE)) {
      UnknownFieldSet attribute = parse(bytes);
      switch (text(attribute, ATTRIBUTE_NAME)) {
        case "classlabels_int64s" -> labels.addAll(int64s(attribute.getField(ATTRIBUTE_INTS)));
        case "classlabels_strings" ->
            lengthDelimited(attribute, ATTRIBUTE_STRINGS).forEach(s -> labels.add(s.toStringUtf8()));
        default -> { }
      }
    }
    return labels;
  }

  /** Repeated int64s, written unpacked (proto2's default, as onnx writes them) or packed. */
  private static List<Long> int64s(Field field) {
    List<Long> values = new ArrayList<>(field.getVarintList());
    for (ByteString packed : field.getLengthDelimitedList()) {
      try {
        com.google.protobuf.CodedInputStream in = packed.newCodedInput();
        while (!in.isAtEnd()) {
          values.add(in.readInt64());
        }
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("a ZipMap's classlabels_int64s cannot be read: " + e.getMessage(), e);
      }
    }
    return values;
  }

  /** The node as {@code Identity} in the default domain: same inputs, outputs and name, no attributes. */
  private static UnknownFieldSet identity(UnknownFieldSet node) {
    return UnknownFieldSet.newBuilder(node)
        .clearField(NODE_ATTRIBUTE)
        .clearField(NODE_DOMAIN)
        .clearField(NODE_OP_TYPE)
        .addField(NODE_OP_TYPE, lengthDelimitedField(List.of(ByteString.copyFromUtf8("Identity"))))
        .build();
  }

  /** A graph output {@code name}: tensor(float) of shape [unknown, classes]. */
  private static ByteString probabilities(String name, int classes) {
    UnknownFieldSet batch = UnknownFieldSet.newBuilder().build();
    UnknownFieldSet width = UnknownFieldSet.newBuilder()
        .addField(DIM_VALUE, Field.newBuilder().addVarint(classes).build()).build();
    UnknownFieldSet shape = UnknownFieldSet.newBuilder()
        .addField(SHAPE_DIM, lengthDelimitedField(List.of(batch.toByteString(), width.toByteString()))).build();
    UnknownFieldSet tensor = UnknownFieldSet.newBuilder()
        .addField(TENSOR_ELEM_TYPE, Field.newBuilder().addVarint(ELEM_FLOAT).build())
        .addField(TENSOR_SHAPE, lengthDelimitedField(List.of(shape.toByteString()))).build();
    UnknownFieldSet type = UnknownFieldSet.newBuilder()
        .addField(TYPE_TENSOR, lengthDelimitedField(List.of(tensor.toByteString()))).build();
    return UnknownFieldSet.newBuilder()
        .addField(VALUE_INFO_NAME, lengthDelimitedField(List.of(ByteString.copyFromUtf8(name))))
        .addField(VALUE_INFO_TYPE, lengthDelimitedField(List.of(type.toByteString())))
        .build().toByteString();
  }

  private static boolean importsDefaultDomain(UnknownFieldSet model) {
    return lengthDelimited(model, MODEL_OPSET_IMPORT).stream()
        .anyMatch(o -> text(parse(o), OPSET_DOMAIN).isEmpty());
  }

  private static Field lengthDelimitedField(List<ByteString> values) {
    Field.Builder f = Field.newBuilder();
    values.forEach(f::addLengthDelimited);
    return f.build();
  }

  private static List<ByteString> lengthDelimited(UnknownFieldSet message, int field) {
    return message.hasField(field) ? message.getField(field).getLengthDelimitedList() : List.of();
  }

  /** A string field's last value (protobuf's rule for a repeated scalar), or "" when absent. */
  private static String text(UnknownFieldSet message, int field) {
    List<ByteString> values = lengthDelimited(message, field);
    return values.isEmpty() ? "" : values.get(values.size() - 1).toStringUtf8();
  }

  private static UnknownFieldSet parse(ByteString bytes) {
    try {
      return UnknownFieldSet.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("the ONNX graph has a malformed message: " + e.getMessage(), e);
    }
  }
}
