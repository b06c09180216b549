package dev.gantry.runner;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Builds Open Inference requests for the churn example models from sample rows. */
public final class ChurnRequests {
  private ChurnRequests() {}

  /** A row: tenure, monthly charges, total charges, contract type, payment method. */
  public record Row(float tenure, float monthly, float total, String contract, String payment) {
    public static Row of(JsonNode sample) {
      return new Row((float) sample.get(0).asDouble(), (float) sample.get(1).asDouble(),
          (float) sample.get(2).asDouble(), sample.get(3).asText(), sample.get(4).asText());
    }
  }

  /** churn-onnx: five [N,1] columns, typed contents. */
  public static ModelInferRequest onnx(List<Row> rows) {
    ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName("churn-onnx");
    b.addInputs(floatColumn("tenure", rows.stream().map(Row::tenure).toList()));
    b.addInputs(floatColumn("monthly_charges", rows.stream().map(Row::monthly).toList()));
    b.addInputs(floatColumn("total_charges", rows.stream().map(Row::total).toList()));
    b.addInputs(stringColumn("contract_type", rows.stream().map(Row::contract).toList()));
    b.addInputs(stringColumn("payment_method", rows.stream().map(Row::payment).toList()));
    return b.build();
  }

  /** churn-onnx with every input in raw_input_contents. */
  public static ModelInferRequest onnxRaw(List<Row> rows) {
    ModelInferRequest typed = onnx(rows);
    ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName("churn-onnx");
    for (ModelInferRequest.InferInputTensor in : typed.getInputsList()) {
      b.addInputs(in.toBuilder().clearContents());
      b.addRawInputContents(raw(in));
    }
    return b.build();
  }

  /** churn-torchscript (or an MLflow twin): one FP32 [N,3] tensor named {@code input}. */
  public static ModelInferRequest numeric(String model, List<Row> rows) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    for (Row r : rows) {
      c.addFp32Contents(r.tenure()).addFp32Contents(r.monthly()).addFp32Contents(r.total());
    }
    return ModelInferRequest.newBuilder().setModelName(model)
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
            .addShape(rows.size()).addShape(3).setContents(c))
        .build();
  }

  /** Same as {@link #numeric} with raw contents. */
  public static ModelInferRequest numericRaw(String model, List<Row> rows) {
    ModelInferRequest typed = numeric(model, rows);
    ModelInferRequest.InferInputTensor in = typed.getInputs(0);
    return ModelInferRequest.newBuilder().setModelName(model).addInputs(in.toBuilder().clearContents())
        .addRawInputContents(raw(in)).build();
  }

  public static ModelInferRequest.InferInputTensor floatColumn(String name, List<Float> values) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    values.forEach(c::addFp32Contents);
    return ModelInferRequest.InferInputTensor.newBuilder().setName(name).setDatatype("FP32")
        .addShape(values.size()).addShape(1).setContents(c).build();
  }

  public static ModelInferRequest.InferInputTensor stringColumn(String name, List<String> values) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    values.forEach(v -> c.addBytesContents(ByteString.copyFromUtf8(v)));
    return ModelInferRequest.InferInputTensor.newBuilder().setName(name).setDatatype("BYTES")
        .addShape(values.size()).addShape(1).setContents(c).build();
  }

  static ByteString raw(ModelInferRequest.InferInputTensor in) {
    InferTensorContents c = in.getContents();
    if (in.getDatatype().equals("BYTES")) {
      int size = c.getBytesContentsList().stream().mapToInt(bs -> 4 + bs.size()).sum();
      ByteBuffer buf = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
      c.getBytesContentsList().forEach(bs -> buf.putInt(bs.size()).put(bs.toByteArray()));
      return ByteString.copyFrom(buf.array());
    }
    ByteBuffer buf = ByteBuffer.allocate(c.getFp32ContentsCount() * 4).order(ByteOrder.LITTLE_ENDIAN);
    c.getFp32ContentsList().forEach(buf::putFloat);
    return ByteString.copyFrom(buf.array());
  }

  /** The first output as floats, from typed or raw contents. */
  public static float[] floats(ModelInferResponse response) {
    if (response.getRawOutputContentsCount() > 0) {
      ByteBuffer buf = response.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      float[] out = new float[buf.remaining() / 4];
      buf.asFloatBuffer().get(out);
      return out;
    }
    List<Float> list = response.getOutputs(0).getContents().getFp32ContentsList();
    float[] out = new float[list.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = list.get(i);
    }
    return out;
  }

  public static String utf8(ByteString b) {
    return new String(b.toByteArray(), StandardCharsets.UTF_8);
  }
}
