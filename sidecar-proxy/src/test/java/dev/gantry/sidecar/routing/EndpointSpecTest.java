package dev.gantry.sidecar.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.SidecarException;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EndpointSpecTest {
  private final EndpointSpecParser parser = new EndpointSpecParser();

  private static final String VALID = """
      name: churn
      salt: churn-2024
      sticky_key: {header: X-User-Id}
      allow_override: true
      variants:
        - {name: stable, model: churn, version: 3, weight: 90}
        - {name: canary, model: churn-next, version: "4", upstream: "canary-runner:8001", weight: 10}
        - {name: dark, model: churn, upstream: local, weight: 0}
      """;

  /** The message of the invalid-argument error that reading and checking the YAML ends in. */
  private String errorOf(String yaml) {
    SidecarException e = catchThrowableOfType(SidecarException.class, () -> Endpoint.initial(parser.yaml(yaml)));
    assertThat(e).as("expected %s to be refused", yaml).isNotNull();
    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    return e.getMessage();
  }

  /** VALID with one line replaced. */
  private static String validWith(String line, String replacement) {
    assertThat(VALID).contains(line);
    return VALID.replace(line, replacement);
  }

  @Test
  void readsAYamlSpecIntoACheckedEndpointWithItsDefaults() {
    Endpoint e = Endpoint.initial(parser.yaml(VALID));
    assertThat(e.name()).isEqualTo("churn");
    assertThat(e.salt()).isEqualTo("churn-2024");
    assertThat(e.stickyKey()).hasValue(new StickyKey(StickyKey.Source.HEADER, "x-user-id"));
    assertThat(e.overrideAllowed()).isTrue();
    assertThat(e.variants()).containsExactly(
        new Variant("stable", "churn", Optional.of("3"), Upstream.LOCAL, 90),
        new Variant("canary", "churn-next", Optional.of("4"), new Upstream.Remote("canary-runner", 8001), 10),
        new Variant("dark", "churn", Optional.empty(), Upstream.LOCAL, 0));
    assertThat(e.allocation().owners().get("canary")).containsExactly(new BucketRange(9000, 10_000));
  }

  @Test
  void saltDefaultsToTheNameAndOverridesAndStickyKeysAreOffUnlessGiven() {
    Endpoint e = Endpoint.initial(parser.json("""
        {"name": "churn", "variants": [{"name": "only", "model": "churn", "upstream": "[::1]:9001", "weight": 100}]}
        """));
    assertThat(e.salt()).isEqualTo("churn");
    assertThat(e.stickyKey()).isEmpty();
    assertThat(e.overrideAllowed()).isFalse();
    assertThat(e.variants().get(0).upstream()).isEqualTo(new Upstream.Remote("[::1]", 9001));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "name: churn | name: '' | name: is required",
      "salt: churn-2024 | salt: '' | salt: must not be empty",
      "sticky_key: {header: X-User-Id} | sticky_key: {header: x-user, cookie: uid} | sticky_key: must name exactly one",
      "sticky_key: {header: X-User-Id} | sticky_key: {cookie: 'a b'} | sticky_key.cookie: must be a cookie name",
      "weight: 90} | weight: -5} | variants[0].weight: must be a whole percent from 0 to 100, got -5",
      "weight: 90} | weight: 85} | variants: weights must sum to exactly 100, these sum to 95",
      "version: 3, weight: 90} | version: 3} | variants[0].weight: is required",
      "{name: dark, | {name: stable, | variants[2].name: 'stable' is already the name of variants[0]",
      "{name: dark, | {name: ' ', | variants[2].name: is required",
      "model: churn-next | model: '' | variants[1].model: is required",
      "version: \"4\" | version: '' | variants[1].version: must not be empty",
      "canary-runner:8001 | canary-runner:70000 | variants[1].upstream: port of 'canary-runner:70000' must be",
      "canary-runner:8001 | canary-runner | variants[1].upstream: must be 'local' or 'host:port'",
      "canary-runner:8001 | '::1:8001' | variants[1].upstream: host of '::1:8001' is not",
      "weight: 90} | weight: 90, colour: red} | variants[0].colour: unknown key; known keys here: model, name,",
      "salt: churn-2024 | weights: [90, 10] | weights: unknown key",
      "weight: 90} | weight: 89.5} | variants[0].weight: expected a whole number",
      "weight: 90} | weight: '90'} | variants[0].weight: expected a whole number",
      "allow_override: true | allow_override: 'yes' | allow_override: expected true or false",
      "salt: churn-2024 | variants: {} | variants: expected a list",
      "weight: 90} | weight: 90, weight: 80} | Duplicate field 'weight'"})
  void refusesABadSpecNamingTheField(String line, String replacement, String expected) {
    assertThat(errorOf(validWith(line, replacement))).contains(expected);
  }

  @Test
  void reportsEveryProblemOfASpecAtOnce() {
    String message = errorOf("""
        name: churn
        variants:
          - {name: a, model: '', weight: 50}
          - {name: a, model: churn, upstream: 'host:0', weight: 50}
        """);
    assertThat(message).startsWith("endpoint spec 'churn': ")
        .contains("variants[0].model", "variants[1].name", "variants[1].upstream");
  }

  @Test
  void refusesASpecWithoutVariantsOrWithAnEmptyDocument() {
    assertThat(errorOf("name: churn\n")).contains("variants: at least one variant is required");
    assertThat(errorOf("name: churn\nvariants: []\n")).contains("variants: at least one variant is required");
    assertThat(errorOf("")).contains("the document is empty");
    assertThat(errorOf("name: churn\nvariants:\n  - null\n")).contains("variants[0]: must be a variant");
  }

  @Test
  void revisingAnotherEndpointIsRefused() {
    Endpoint churn = Endpoint.initial(parser.yaml(VALID));
    SidecarException e = catchThrowableOfType(SidecarException.class,
        () -> Endpoint.revise(churn, parser.yaml(validWith("name: churn", "name: fraud"))));
    assertThat(e.getMessage()).contains("name: 'fraud' cannot revise endpoint 'churn'");
  }
}
