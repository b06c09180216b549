package dev.gantry.runner.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Declared shapes are checked before anything is allocated from them. */
class RequestValidatorTest {
  private static final ModelSignature VARIABLE = new ModelSignature(
      List.of(new TensorSpec("x", DataType.FP32, new long[] {-1, -1})), List.of(), 0);
  private static final ModelSignature BATCHING = new ModelSignature(
      List.of(new TensorSpec("x", DataType.FP32, new long[] {3})), List.of(), 8);

  private static InferenceException refusal(ModelSignature signature, long... shape) {
    try {
      RequestValidator.checkDeclared("m", signature, "x", DataType.FP32, shape);
    } catch (InferenceException e) {
      return e;
    }
    throw new AssertionError("shape " + Shapes.format(shape) + " was accepted");
  }

  @Test
  void aShapeWhoseProductOverflowsIsInvalidArgumentNamingTheInput() {
    InferenceException e = refusal(VARIABLE, 4611686018427387904L, 3);
    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    assertThat(e).hasMessageContaining("input 'x'").hasMessageContaining("[4611686018427387904,3]")
        .hasMessageContaining("more elements than a tensor can hold");
  }

  @Test
  void aBatchAboveMaxBatchSizeIsRefusedBeforeItsProductIsTaken() {
    assertThat(refusal(BATCHING, 4611686018427387904L, 3))
        .hasMessageContaining("batch size 4611686018427387904 exceeds max_batch_size 8");
  }

  @Test
  void negativeDimensionsAndShapesOfTheWrongFormAreRefused() {
    assertThat(refusal(VARIABLE, -1, 3)).hasMessageContaining("negative dimension");
    assertThat(refusal(BATCHING, 2, 4)).hasMessageContaining("expected shape [-1,3]");
  }

  @Test
  void aValidDeclarationReturnsItsElementCount() {
    assertThat(RequestValidator.checkDeclared("m", VARIABLE, "x", DataType.FP32, new long[] {5, 7})).isEqualTo(35);
    assertThat(RequestValidator.checkDeclared("m", BATCHING, "x", DataType.FP32, new long[] {0, 3})).isZero();
  }

  @Test
  void aTensorCannotHoldMoreOrFewerBytesThanItsShapeDescribes() {
    assertThatThrownBy(() -> Tensor.ofBytes("x", DataType.FP32, new long[] {1, 3}, new byte[13]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs 3 elements but holds 13 bytes");
    assertThatThrownBy(() -> Tensor.ofUtf8("s", new long[] {2}, "only one"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
