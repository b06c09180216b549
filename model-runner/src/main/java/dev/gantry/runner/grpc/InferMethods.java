package dev.gantry.runner.grpc;

import com.google.protobuf.CodedInputStream;
import dev.gantry.proto.inference.GRPCInferenceServiceGrpcService;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelStreamInferResponse;
import io.vertx.grpc.common.CodecException;
import io.vertx.grpc.common.GrpcMessage;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.WireFormat;
import java.io.IOException;
import java.util.Map;

/**
 * The two inference methods with a decoder of our own: it keeps what protobuf parsing loses
 * ({@link WireRanges}) and turns bytes that are not a ModelInferRequest into a message the
 * handler answers with INVALID_ARGUMENT, where the stock decoder would reset the stream.
 */
final class InferMethods {
  static final ServiceMethod<InferMessage, ModelInferResponse> MODEL_INFER = ServiceMethod.server(
      GRPCInferenceServiceGrpcService.SERVICE_NAME, "ModelInfer", GrpcMessageEncoder.encoder(), new Decoder());
  static final ServiceMethod<InferMessage, ModelStreamInferResponse> MODEL_STREAM_INFER = ServiceMethod.server(
      GRPCInferenceServiceGrpcService.SERVICE_NAME, "ModelStreamInfer", GrpcMessageEncoder.encoder(), new Decoder());

  private InferMethods() {}

  /** Parses protobuf (and JSON, through the stock decoder) into an {@link InferMessage}. */
  private static final class Decoder implements GrpcMessageDecoder<InferMessage> {
    private final GrpcMessageDecoder<ModelInferRequest> json = GrpcMessageDecoder.json(ModelInferRequest::newBuilder);

    @Override
    public InferMessage decode(GrpcMessage msg) {
      if (msg.format() == WireFormat.JSON) {
        try {
          return InferMessage.of(json.decode(msg));
        } catch (CodecException e) {
          return malformed(e);
        }
      }
      byte[] bytes = msg.payload().getBytes();
      try {
        CodedInputStream in = CodedInputStream.newInstance(bytes);
        // raw contents then share this private copy instead of being copied once more
        in.enableAliasing(true);
        ModelInferRequest request = ModelInferRequest.parseFrom(in);
        Map<Integer, String> outOfRange = WireRanges.scan(bytes);
        return new InferMessage(request, outOfRange, null);
      } catch (IOException e) {
        return malformed(e);
      }
    }

    private static InferMessage malformed(Exception e) {
      return new InferMessage(ModelInferRequest.getDefaultInstance(), Map.of(),
          "the message is not a valid inference.ModelInferRequest: " + e.getMessage());
    }

    @Override
    public boolean accepts(WireFormat format) {
      return format == WireFormat.PROTOBUF || format == WireFormat.JSON;
    }
  }
}
