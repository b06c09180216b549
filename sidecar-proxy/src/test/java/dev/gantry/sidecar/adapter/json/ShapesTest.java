package dev.gantry.sidecar.adapter.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gantry.sidecar.core.SidecarException;
import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Declared shapes are checked before anything is built from them. */
class ShapesTest {
  @Test
  void wholeNonNegativeDimensionsAreRead() {
    assertThat(Shapes.parse("'shape'", new JsonArray("[2, 3.0, 0, 1e2]"))).containsExactly(2, 3, 0, 100);
    assertThat(Shapes.parse("'shape'", new JsonArray("[]"))).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "[2, -1]           | dimension 1 is -1",
      "[1.5]             | dimension 0 is 1.5",
      "[\"3\"]           | dimension 0 is \"3\"",
      "[null]            | dimension 0 is null",
      "[[2]]             | dimension 0 is an array",
      "[18446744073709551616] | dimension 0 is 18446744073709551616, too large",
      "[1e300]           | dimension 0 is 1.0E300, too large"})
  void dimensionsThatAreNotSizesAreRefusedByPosition(String shape, String message) {
    assertThatThrownBy(() -> Shapes.parse("'data.tensor.shape'", new JsonArray(shape)))
        .isInstanceOf(SidecarException.class).hasMessageContainingAll("'data.tensor.shape'", message);
  }

  @Test
  void tooManyDimensionsAreRefused() {
    JsonArray ones = new JsonArray();
    for (int i = 0; i <= Shapes.MAX_RANK; i++) {
      ones.add(1);
    }
    assertThatThrownBy(() -> Shapes.parse("'shape'", ones)).isInstanceOf(SidecarException.class)
        .hasMessageContaining("65 dimensions; at most 64");
    assertThatThrownBy(() -> Shapes.count("x", new long[Shapes.MAX_RANK + 1])).isInstanceOf(SidecarException.class)
        .hasMessageContaining("at most 64");
  }

  @Test
  void aProductPastLongMaxIsRefusedInsteadOfOverflowing() {
    assertThatThrownBy(() -> Shapes.count("x", new long[] {1L << 32, 1L << 32}))
        .isInstanceOf(SidecarException.class).hasMessageContaining("multiply past 9223372036854775807");
    assertThatThrownBy(() -> Shapes.count("x", new long[] {1L << 32, 1L << 32, 0}))
        .isInstanceOf(SidecarException.class).hasMessageContaining("multiply past");
  }

  @Test
  void anEmptyTensorMayOnlyBeNarrow() {
    assertThat(Shapes.count("x", new long[] {0, 3})).isZero();
    assertThat(Shapes.count("x", new long[] {Shapes.MAX_EMPTY_EXTENT, 0})).isZero();
    assertThatThrownBy(() -> Shapes.count("'data.tensor'", new long[] {1_000_000, 1_000_000, 0}))
        .isInstanceOf(SidecarException.class)
        .hasMessageContainingAll("'data.tensor'", "[1000000, 1000000, 0]", "holds no values", "at most 1024");
  }

  @Test
  void checkComparesTheProductWithTheValues() {
    Shapes.check("x", new long[] {2, 3}, 6);
    Shapes.check("x", new long[] {}, 1);
    assertThatThrownBy(() -> Shapes.check("'data.tensor'", new long[] {1, 3}, 2))
        .isInstanceOf(SidecarException.class).hasMessageContaining("(3 values) but 2 values");
    assertThatThrownBy(() -> Shapes.count("x", new long[] {2, -3}))
        .isInstanceOf(SidecarException.class).hasMessageContaining("dimension 1 is negative");
  }
}
