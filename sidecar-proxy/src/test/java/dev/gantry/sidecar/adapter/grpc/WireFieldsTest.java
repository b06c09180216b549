package dev.gantry.sidecar.adapter.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Reading the model name and version off a serialized message, as the gRPC pass-through does. */
class WireFieldsTest {
  @Test
  void readsTheNamedStringFieldsAndSkipsTheTensors() throws Exception {
    ModelInferRequest req = ModelInferRequest.newBuilder().setId("r1")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32").addShape(1)
            .addShape(3))
        .addRawInputContents(ByteString.copyFrom(new byte[12]))
        .setModelName("churn").setModelVersion("2").build();
    assertThat(WireFields.strings(req.toByteArray(), 1, 2)).containsExactly("churn", "2");
    assertThat(WireFields.strings(ModelInferRequest.newBuilder().setModelName("m").build().toByteArray(), 1, 2))
        .containsExactly("m", "");
    ModelInferResponse resp = ModelInferResponse.newBuilder().setModelName("churn").setModelVersion("7").build();
    assertThat(WireFields.strings(resp.toByteArray(), 2)).containsExactly("7");
  }

  @Test
  void theLastOccurrenceWinsAsInProtobufParsing() throws Exception {
    byte[] first = ModelInferRequest.newBuilder().setModelName("a").build().toByteArray();
    byte[] second = ModelInferRequest.newBuilder().setModelName("b").build().toByteArray();
    byte[] both = Arrays.copyOf(first, first.length + second.length);
    System.arraycopy(second, 0, both, first.length, second.length);
    assertThat(WireFields.strings(both, 1)).containsExactly(ModelInferRequest.parseFrom(both).getModelName());
  }

  @Test
  void aMalformedMessageIsRefused() {
    byte[] truncated = Arrays.copyOf(ModelInferRequest.newBuilder().setModelName("churn").build().toByteArray(), 3);
    assertThatThrownBy(() -> WireFields.strings(truncated, 1)).isInstanceOf(InvalidProtocolBufferException.class);
  }
}
