package dev.gantry.sidecar.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ForwardedHeadersTest {
  @Test
  void generatedRequestIdsAreDistinctVersion4Uuids() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      String id = ForwardedHeaders.requestId(null);
      UUID uuid = UUID.fromString(id);
      assertThat(uuid.version()).isEqualTo(4);
      assertThat(uuid.variant()).isEqualTo(2);
      assertThat(seen.add(id)).isTrue();
    }
  }

  @Test
  void usableRequestIdsAreKeptAndOthersReplaced() {
    assertThat(ForwardedHeaders.requestId("order-42")).isEqualTo("order-42");
    assertThat(ForwardedHeaders.requestId("with space")).isNotEqualTo("with space");
    assertThat(ForwardedHeaders.requestId("x".repeat(201))).hasSize(36);
    assertThat(ForwardedHeaders.requestId("")).hasSize(36);
  }

  @Test
  void onlyAllowedHeadersWithinTheirLimitsAndTheBudgetAreSelected() {
    ForwardedHeaders forwarded = new ForwardedHeaders(List.of("x-tenant"));
    Map<String, String> headers = Map.of("traceparent", "00-abc-01", "baggage", "b".repeat(3000), "x-tenant", "blue",
        "x-secret", "s");
    Map<String, String> out = forwarded.select("id-1", headers::get);
    assertThat(out).containsOnlyKeys("x-request-id", "traceparent", "x-tenant");
    assertThat(out.get("x-request-id")).isEqualTo("id-1");
  }
}
