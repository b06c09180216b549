package dev.gantry.sidecar.routing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StickyHashTest {

  /** Expected buckets computed outside Java with the recipe in StickyHash's Javadoc (Python's hashlib). */
  @ParameterizedTest
  @CsvSource({
      "churn, user-1, 4641",
      "churn, user-2, 1233",
      "churn, alice, 3912",
      "checkout-v2, 8c1f6e2a-4d5b, 2832",
      "modèle, clé-ü, 8700",
      "ab, c, 5165",
      "a, bc, 7297",
      "'', '', 3192"})
  void bucketMatchesTheDocumentedSha256RecipeComputedElsewhere(String salt, String key, int bucket) {
    assertThat(StickyHash.bucket(salt, key)).isEqualTo(bucket);
  }
}
