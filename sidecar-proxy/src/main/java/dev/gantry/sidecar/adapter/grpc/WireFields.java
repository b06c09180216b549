package dev.gantry.sidecar.adapter.grpc;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import java.io.IOException;

/** Reads a few top-level string fields of a serialized protobuf message, skipping everything else unread. */
final class WireFields {
  private WireFields() {}

  /**
   * The values of the string fields numbered {@code fields} ("" for one that is absent; the last occurrence wins, as
   * protobuf parsing does).
   *
   * @throws InvalidProtocolBufferException when the bytes are not a well-formed message
   */
  static String[] strings(byte[] message, int... fields) throws InvalidProtocolBufferException {
    return strings(CodedInputStream.newInstance(message), fields);
  }

  /** {@link #strings(byte[], int...)} read where the buffer's bytes are, without copying them. */
  static String[] strings(io.vertx.core.buffer.Buffer message, int... fields) throws InvalidProtocolBufferException {
    return strings(CodedInputStream.newInstance(
        ((io.vertx.core.internal.buffer.BufferInternal) message).getByteBuf().nioBuffer()), fields);
  }

  private static String[] strings(CodedInputStream in, int... fields) throws InvalidProtocolBufferException {
    String[] values = new String[fields.length];
    java.util.Arrays.fill(values, "");
    try {
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        int field = WireFormat.getTagFieldNumber(tag);
        int index = -1;
        for (int i = 0; i < fields.length; i++) {
          if (fields[i] == field) {
            index = i;
          }
        }
        if (index >= 0 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
          values[index] = in.readStringRequireUtf8();
        } else if (!in.skipField(tag)) {
          break;
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw e;
    } catch (IOException e) {
      throw new InvalidProtocolBufferException(e);
    }
    return values;
  }
}
