package dev.gantry.runner.grpc;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import dev.gantry.proto.inference.GRPCInferenceServiceGrpcService;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferRequest.InferInputTensor;
import dev.gantry.proto.inference.ModelInferResponse;
import io.vertx.core.buffer.Buffer;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.ServiceMethod;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/** Hand-made protobuf bytes: what a client that is not protobuf-java can put on the wire. */
final class WireMessages {
  /** ModelInfer sending the bytes it is given as they are. */
  static final ServiceMethod<ModelInferResponse, Buffer> MODEL_INFER_BYTES = ServiceMethod.client(
      GRPCInferenceServiceGrpcService.SERVICE_NAME, "ModelInfer", GrpcMessageEncoder.IDENTITY,
      GrpcMessageDecoder.decoder(ModelInferResponse.newBuilder()));

  private WireMessages() {}

  /**
   * A request to {@code model} with one input whose contents carry {@code values} as 64-bit
   * varints of field {@code field}, wider than int32/uint32 allow.
   */
  static byte[] wideVarints(String model, String name, String type, long[] shape, int field, long... values)
      throws IOException {
    ByteArrayOutputStream contents = new ByteArrayOutputStream();
    CodedOutputStream c = CodedOutputStream.newInstance(contents);
    for (long v : values) {
      c.writeUInt64(field, v);
    }
    c.flush();
    InferInputTensor.Builder t = InferInputTensor.newBuilder().setName(name).setDatatype(type);
    for (long d : shape) {
      t.addShape(d);
    }
    byte[] tensor = t.build().toByteArray();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CodedOutputStream o = CodedOutputStream.newInstance(out);
    o.writeString(ModelInferRequest.MODEL_NAME_FIELD_NUMBER, model);
    o.writeTag(ModelInferRequest.INPUTS_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
    int contentsHeader = CodedOutputStream.computeTagSize(InferInputTensor.CONTENTS_FIELD_NUMBER)
        + CodedOutputStream.computeUInt32SizeNoTag(contents.size());
    o.writeUInt32NoTag(tensor.length + contentsHeader + contents.size());
    o.writeRawBytes(tensor);
    o.writeTag(InferInputTensor.CONTENTS_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
    o.writeUInt32NoTag(contents.size());
    o.writeRawBytes(contents.toByteArray());
    o.flush();
    return out.toByteArray();
  }
}
