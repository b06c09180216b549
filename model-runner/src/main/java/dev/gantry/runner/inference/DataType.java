package dev.gantry.runner.inference;

import java.util.Locale;
import java.util.Optional;

/** The tensor datatypes of the Open Inference Protocol v2, with their element sizes. */
public enum DataType {
  BOOL(1),
  UINT8(1),
  UINT16(2),
  UINT32(4),
  UINT64(8),
  INT8(1),
  INT16(2),
  INT32(4),
  INT64(8),
  FP16(2),
  FP32(4),
  FP64(8),
  BF16(2),
  /** Variable-length byte strings; on the raw wire each element has a 4-byte length prefix. */
  BYTES(0);

  private final int byteSize;

  DataType(int byteSize) {
    this.byteSize = byteSize;
  }

  /** Bytes per element; 0 for {@link #BYTES}. */
  public int byteSize() {
    return byteSize;
  }

  public boolean isBytes() {
    return this == BYTES;
  }

  /** Parses a protocol datatype name such as {@code "FP32"}; case-insensitive. */
  public static Optional<DataType> parse(String name) {
    if (name == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(valueOf(name.trim().toUpperCase(Locale.ROOT)));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** The accepted names, for error messages. */
  public static String names() {
    StringBuilder sb = new StringBuilder();
    for (DataType t : values()) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append(t.name());
    }
    return sb.toString();
  }
}
