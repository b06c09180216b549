package dev.gantry.runner.grpc;

import com.google.protobuf.ByteString;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferRequest.InferInputTensor;
import dev.gantry.runner.ChurnRequests;
import dev.gantry.runner.ChurnRequests.Row;
import dev.gantry.runner.inference.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Bounded random requests for the runner's decoders from a seeded {@link Random}: valid requests
 * for the example models (typed and raw, every datatype of the dtypes fixture, BYTES columns),
 * then a few structured mutations (shapes, datatypes, raw sizes and length prefixes, typed fields
 * and ranges, inputs, names), and now and then a byte-level mutation of the encoded message.
 */
final class RequestFuzzer {
  private static final String[] CONTRACTS = {"Month-to-month", "One year", "Two year", "", "\u00e9t\u00e9"};
  private static final String[] PAYMENTS = {"Electronic check", "Mailed check", "Credit card (automatic)", "x"};
  private static final String[] DATATYPES = {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32",
      "INT64", "FP16", "FP32", "FP64", "BF16", "BYTES", "fp32", "FP33", ""};
  private static final long[] DIMS = {-1, 0, 1, 2, 3, 63, 64, 65, 1L << 31, 1L << 62, 4611686018427387904L,
      Long.MAX_VALUE};

  private final Random random;

  RequestFuzzer(long seed) {
    this.random = new Random(seed);
  }

  /** A request: a structured one, or its encoding with a few bytes changed. */
  Object next() {
    ModelInferRequest request = mutate(valid());
    if (random.nextInt(5) == 0) {
      return mutateBytes(request.toByteArray());
    }
    return request;
  }

  ModelInferRequest valid() {
    return switch (random.nextInt(3)) {
      case 0 -> random.nextBoolean() ? ChurnRequests.numeric("churn-torchscript", rows())
          : ChurnRequests.numericRaw("churn-torchscript", rows());
      case 1 -> random.nextBoolean() ? ChurnRequests.onnx(rows()) : ChurnRequests.onnxRaw(rows());
      default -> dtypes();
    };
  }

  private List<Row> rows() {
    List<Row> rows = new ArrayList<>();
    for (int i = 1 + random.nextInt(8); i > 0; i--) {
      rows.add(new Row(random.nextFloat() * 72, random.nextFloat() * 120, random.nextFloat() * 9000,
          CONTRACTS[random.nextInt(CONTRACTS.length)], PAYMENTS[random.nextInt(PAYMENTS.length)]));
    }
    return rows;
  }

  /** The dtypes fixture's seven [2] inputs in raw contents, random values. */
  private ModelInferRequest dtypes() {
    String[][] inputs = {{"f64", "FP64"}, {"i32", "INT32"}, {"i8", "INT8"}, {"u8", "UINT8"}, {"flags", "BOOL"},
        {"f16", "FP16"}, {"i64", "INT64"}};
    ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName("dtypes");
    for (String[] in : inputs) {
      DataType type = DataType.valueOf(in[1]);
      b.addInputs(InferInputTensor.newBuilder().setName(in[0]).setDatatype(in[1]).addShape(2));
      byte[] data = new byte[2 * type.byteSize()];
      random.nextBytes(data);
      if (type == DataType.BOOL) {
        data = new byte[] {(byte) random.nextInt(2), (byte) random.nextInt(2)};
      }
      b.addRawInputContents(ByteString.copyFrom(data));
    }
    return b.build();
  }

  private ModelInferRequest mutate(ModelInferRequest request) {
    ModelInferRequest.Builder b = request.toBuilder();
    for (int n = random.nextInt(4); n > 0 && b.getInputsCount() > 0; n--) {
      int i = random.nextInt(b.getInputsCount());
      InferInputTensor.Builder in = b.getInputsBuilder(i);
      switch (random.nextInt(12)) {
        case 0 -> {
          if (in.getShapeCount() > 0) {
            in.setShape(random.nextInt(in.getShapeCount()), DIMS[random.nextInt(DIMS.length)]);
          }
        }
        case 1 -> {
          if (random.nextBoolean() || in.getShapeCount() == 0) {
            in.addShape(random.nextInt(4));
          } else {
            List<Long> shape = new ArrayList<>(in.getShapeList());
            in.clearShape().addAllShape(shape.subList(0, shape.size() - 1));
          }
        }
        case 2 -> in.setDatatype(DATATYPES[random.nextInt(DATATYPES.length)]);
        case 3 -> {
          if (i < b.getRawInputContentsCount()) {
            b.setRawInputContents(i, resized(b.getRawInputContents(i)));
          }
        }
        case 4 -> {
          if (i < b.getRawInputContentsCount()) {
            b.setRawInputContents(i, lengthPrefixes());
          }
        }
        case 5 -> in.setContents(typedContents());
        case 6 -> {
          switch (random.nextInt(3)) {
            case 0 -> b.removeInputs(i);
            case 1 -> b.addInputs(in.build());
            default -> in.setName(random.nextBoolean() ? "" : "input" + random.nextInt(3));
          }
        }
        case 7 -> {
          if (random.nextBoolean() && b.getRawInputContentsCount() > 0) {
            List<ByteString> raw = new ArrayList<>(b.getRawInputContentsList());
            b.clearRawInputContents().addAllRawInputContents(raw.subList(0, raw.size() - 1));
          } else {
            b.addRawInputContents(randomBytes(random.nextInt(16)));
          }
        }
        case 8 -> b.setModelName(random.nextBoolean() ? "nope" : "");
        case 9 -> b.setModelVersion(random.nextBoolean() ? "2" : "-1");
        case 10 -> b.addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder()
            .setName(random.nextBoolean() ? "probabilities" : "logits"));
        default -> in.setContents(InferTensorContents.newBuilder().addIntContents(random.nextInt())
            .addUintContents(random.nextInt()).addIntContents(1 << 20));
      }
    }
    return b.build();
  }

  /** The same bytes cut short, grown, or with one byte changed; now and then a large buffer. */
  private ByteString resized(ByteString raw) {
    return switch (random.nextInt(4)) {
      case 0 -> raw.substring(0, random.nextInt(raw.size() + 1));
      case 1 -> raw.concat(randomBytes(1 + random.nextInt(7)));
      case 2 -> {
        byte[] b = raw.toByteArray();
        if (b.length > 0) {
          b[random.nextInt(b.length)] ^= (byte) (1 + random.nextInt(255));
        }
        yield ByteString.copyFrom(b);
      }
      default -> randomBytes(random.nextInt(1 << 20));
    };
  }

  /** BYTES raw content with made-up length prefixes: huge, negative, zero, many. */
  private ByteString lengthPrefixes() {
    int count = random.nextInt(3) == 0 ? 1 + random.nextInt(100_000) : 1 + random.nextInt(4);
    ByteBuffer buf = ByteBuffer.allocate(count * 5).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      int[] lengths = {0, 1, -1, Integer.MAX_VALUE, 1000};
      int len = lengths[random.nextInt(lengths.length)];
      buf.putInt(len);
      if (len == 1) {
        buf.put((byte) 'x');
      }
    }
    return ByteString.copyFrom(buf.array(), 0, buf.position());
  }

  private InferTensorContents typedContents() {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    int n = random.nextInt(5);
    for (int i = 0; i < n; i++) {
      switch (random.nextInt(6)) {
        case 0 -> c.addFp32Contents(random.nextBoolean() ? Float.NaN : random.nextFloat());
        case 1 -> c.addIntContents(random.nextBoolean() ? random.nextInt() : 200);
        case 2 -> c.addUintContents(random.nextInt());
        case 3 -> c.addBoolContents(random.nextBoolean());
        case 4 -> c.addBytesContents(randomBytes(random.nextInt(8)));
        default -> c.addInt64Contents(random.nextLong());
      }
    }
    return c.build();
  }

  private byte[] mutateBytes(byte[] encoded) {
    byte[] b = encoded.clone();
    int changes = 1 + random.nextInt(4);
    for (int i = 0; i < changes && b.length > 0; i++) {
      b[random.nextInt(b.length)] = (byte) random.nextInt(256);
    }
    if (random.nextInt(4) == 0 && b.length > 0) {
      return java.util.Arrays.copyOf(b, random.nextInt(b.length));
    }
    return b;
  }

  private ByteString randomBytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return ByteString.copyFrom(b);
  }
}
