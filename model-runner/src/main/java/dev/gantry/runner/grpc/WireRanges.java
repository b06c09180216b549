package dev.gantry.runner.grpc;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Finds typed 32-bit values that a serialized {@code ModelInferRequest} carries wider than their
 * field: protobuf parses an {@code int32}/{@code uint32} varint of up to 64 bits and keeps its low
 * 32 bits, so {@code 4294967296} in {@code uint_contents} would silently become 0. Only the bytes
 * tell; this walks them (inputs → contents → int/uint contents, packed or not) without allocating.
 */
final class WireRanges {
  private WireRanges() {}

  /**
   * @return by input index, the first value that does not fit its field, as decimal text
   * @throws IOException when the bytes are not a well-formed message
   */
  static Map<Integer, String> scan(byte[] message) throws IOException {
    Map<Integer, String> found = new HashMap<>();
    CodedInputStream in = CodedInputStream.newInstance(message);
    int input = -1;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (isLengthDelimited(tag, ModelInferRequest.INPUTS_FIELD_NUMBER)) {
        input++;
        int limit = in.pushLimit(in.readRawVarint32());
        scanInput(in, input, found);
        in.popLimit(limit);
      } else {
        in.skipField(tag);
      }
    }
    return found;
  }

  private static void scanInput(CodedInputStream in, int input, Map<Integer, String> found) throws IOException {
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (isLengthDelimited(tag, ModelInferRequest.InferInputTensor.CONTENTS_FIELD_NUMBER)) {
        int limit = in.pushLimit(in.readRawVarint32());
        scanContents(in, input, found);
        in.popLimit(limit);
      } else {
        in.skipField(tag);
      }
    }
  }

  private static void scanContents(CodedInputStream in, int input, Map<Integer, String> found) throws IOException {
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      int field = WireFormat.getTagFieldNumber(tag);
      boolean signed = field == InferTensorContents.INT_CONTENTS_FIELD_NUMBER;
      if (!signed && field != InferTensorContents.UINT_CONTENTS_FIELD_NUMBER) {
        in.skipField(tag);
      } else if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
        int limit = in.pushLimit(in.readRawVarint32());
        while (in.getBytesUntilLimit() > 0) {
          check(in.readRawVarint64(), signed, input, found);
        }
        in.popLimit(limit);
      } else if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
        check(in.readRawVarint64(), signed, input, found);
      } else {
        in.skipField(tag);
      }
    }
  }

  private static void check(long value, boolean signed, int input, Map<Integer, String> found) {
    boolean fits = signed ? value == (int) value : (value >>> 32) == 0;
    if (!fits) {
      found.putIfAbsent(input, signed ? Long.toString(value) : Long.toUnsignedString(value));
    }
  }

  private static boolean isLengthDelimited(int tag, int field) {
    return WireFormat.getTagFieldNumber(tag) == field
        && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED;
  }
}
