package dev.gantry.sidecar.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.JavaProcess;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import dev.gantry.sidecar.Stack;
import dev.gantry.sidecar.routing.Specs;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The admin API of a real sidecar in front of a real runner: the token, validation, revisions, If-Match. */
class AdminApiTest {
  static final String TOKEN = "test-admin-token-0123456789";
  static final String[] AUTH = {"authorization", "Bearer " + TOKEN};
  static ModelRunner runner;
  static Sidecar sidecar;
  static Http admin;
  static Http data;

  @BeforeAll
  static void start() {
    runner = ModelRunner.start(RunnerOptions.forRepository(Stack.examples()));
    sidecar = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), null).withAdmin(Optional.of(TOKEN), List.of()));
    admin = new Http(sidecar.adminPort());
    data = new Http(sidecar.port());
  }

  @AfterAll
  static void stop() {
    sidecar.close();
    runner.close();
  }

  @AfterEach
  void deleteEndpoints() {
    for (Object item : admin.request("GET", "/admin/v1/endpoints", null, null, AUTH).json().getJsonArray("items")) {
      admin.request("DELETE", "/admin/v1/endpoints/" + ((JsonObject) item).getString("name"), null, null, AUTH);
    }
  }

  private static Http.Reply put(String name, String body, String... headers) {
    String[] all = new String[AUTH.length + headers.length];
    System.arraycopy(AUTH, 0, all, 0, AUTH.length);
    System.arraycopy(headers, 0, all, AUTH.length, headers.length);
    return admin.request("PUT", "/admin/v1/endpoints/" + name, "application/json", body, all);
  }

  private static JsonArray fields(Http.Reply reply) {
    JsonArray fields = new JsonArray();
    reply.json().getJsonArray("problems", new JsonArray()).forEach(p -> fields.add(((JsonObject) p)
        .getString("field")));
    return fields;
  }

  @Test
  void refusesRequestsWithoutTheTokenOrWithAWrongOne() {
    Http.Reply none = admin.request("GET", "/admin/v1/endpoints", null, null);
    assertThat(none.status()).isEqualTo(401);
    assertThat(none.header("www-authenticate")).startsWith("Bearer");
    assertThat(none.json().getString("error")).contains("Authorization: Bearer");
    assertThat(admin.request("GET", "/admin/v1/endpoints", null, null, "authorization", "Bearer wrong-token-000000000")
        .status()).isEqualTo(401);
    assertThat(admin.request("GET", "/admin/v1/endpoints", null, null, "authorization", "Basic " + TOKEN).status())
        .isEqualTo(401);
    assertThat(admin.request("PUT", "/admin/v1/endpoints/churn", "application/json", Specs.churn(90, 10)).status())
        .isEqualTo(401);
    assertThat(admin.request("GET", "/admin/v1/endpoints/churn", null, null, AUTH).status()).isEqualTo(404);
  }

  @Test
  void createsChangesAndDeletesWithRevisions() {
    Http.Reply created = put("churn", Specs.churn(90, 10));
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    assertThat(created.json().getLong("revision")).isEqualTo(1);
    assertThat(created.header("etag")).isEqualTo("\"1\"");
    assertThat(created.json().getJsonObject("buckets").getJsonArray("canary").encode()).isEqualTo("[[9000,10000]]");

    Http.Reply same = put("churn", Specs.churn(90, 10));
    assertThat(same.status()).isEqualTo(200);
    assertThat(same.json().getString("change")).isEqualTo("unchanged");
    assertThat(same.json().getLong("revision")).isEqualTo(1);

    Http.Reply ramped = put("churn", Specs.churn(80, 20), "if-match", "\"1\"");
    assertThat(ramped.status()).as(ramped.body()).isEqualTo(200);
    assertThat(ramped.json().getLong("revision")).isEqualTo(2);
    assertThat(ramped.json().getString("change")).isEqualTo("changed");

    Http.Reply one = admin.request("GET", "/admin/v1/endpoints/churn", null, null, AUTH);
    assertThat(one.status()).isEqualTo(200);
    assertThat(one.header("etag")).isEqualTo("\"2\"");
    assertThat(one.json().getJsonObject("spec").getJsonArray("variants").getJsonObject(1).getInteger("weight"))
        .isEqualTo(20);
    assertThat(admin.request("GET", "/admin/v1/endpoints", null, null, AUTH).json().getJsonArray("items")).hasSize(1);

    assertThat(admin.request("DELETE", "/admin/v1/endpoints/churn", null, null, "authorization", AUTH[1], "if-match",
        "\"1\"").status()).isEqualTo(412);
    assertThat(admin.request("DELETE", "/admin/v1/endpoints/churn", null, null, "authorization", AUTH[1], "if-match",
        "\"2\"").status()).isEqualTo(200);
    assertThat(admin.request("GET", "/admin/v1/endpoints/churn", null, null, AUTH).status()).isEqualTo(404);
  }

  @Test
  void refusesAStaleRevision() {
    assertThat(put("churn", Specs.churn(90, 10)).status()).isEqualTo(201);
    assertThat(put("churn", Specs.churn(80, 20), "if-match", "\"1\"").status()).isEqualTo(200);
    Http.Reply stale = put("churn", Specs.churn(50, 50), "if-match", "\"1\"");
    assertThat(stale.status()).isEqualTo(412);
    assertThat(stale.json().getString("error")).contains("revision 2, not 1");
    Http.Reply createOnly = put("churn", Specs.churn(50, 50), "if-match", "\"0\"");
    assertThat(createOnly.status()).isEqualTo(412);
    assertThat(admin.request("GET", "/admin/v1/endpoints/churn", null, null, AUTH).json().getLong("revision"))
        .isEqualTo(2);
    assertThat(put("churn", Specs.churn(90, 10), "if-match", "not-a-revision").status()).isEqualTo(400);
    assertThat(put("other", Specs.churn(90, 10).replace("\"churn\"", "\"other\""), "if-match", "*").status())
        .isEqualTo(412);
    assertThat(put("churn", Specs.churn(70, 30), "if-match", "*").status()).isEqualTo(200);
  }

  @Test
  void refusesInvalidSpecsNamingTheField() {
    Http.Reply malformed = put("churn", "{\"variants\": [");
    assertThat(malformed.status()).isEqualTo(400);
    assertThat(malformed.json().getString("error")).contains("end-of-input");

    Http.Reply unknownKey = put("churn", "{\"variants\": [{\"name\": \"a\", \"model\": \"customer-churn\","
        + " \"weight\": 100, \"colour\": \"red\"}]}");
    assertThat(unknownKey.status()).isEqualTo(400);
    assertThat(fields(unknownKey)).containsExactly("variants[0].colour");

    Http.Reply wrongType = put("churn", "{\"variants\": [{\"name\": \"a\", \"model\": \"customer-churn\","
        + " \"weight\": \"ninety\"}]}");
    assertThat(wrongType.status()).isEqualTo(400);
    assertThat(fields(wrongType)).containsExactly("variants[0].weight");

    Http.Reply sum = put("churn", Specs.churn(90, 20));
    assertThat(sum.status()).isEqualTo(422);
    assertThat(fields(sum)).containsExactly("variants");
    assertThat(sum.json().getString("error")).contains("sum to exactly 100");

    Http.Reply negative = put("churn", Specs.churn(110, -10));
    assertThat(negative.status()).isEqualTo(422);
    assertThat(fields(negative)).contains("variants[1].weight");

    Http.Reply otherName = put("churn", Specs.churn(90, 10).replace("\"name\": \"churn\"", "\"name\": \"other\""));
    assertThat(otherName.status()).isEqualTo(422);
    assertThat(fields(otherName)).containsExactly("name");

    Http.Reply yaml = admin.request("PUT", "/admin/v1/endpoints/churn", "text/plain", "x", AUTH);
    assertThat(yaml.status()).isEqualTo(415);
    assertThat(admin.request("GET", "/admin/v1/endpoints/churn", null, null, AUTH).status()).isEqualTo(404);
  }

  @Test
  void refusesAVariantItsUpstreamDoesNotServe() {
    Http.Reply unknownModel = put("churn", Specs.churn(90, 10).replace("\"version\": \"2\"", "\"version\": \"7\""));
    assertThat(unknownModel.status()).isEqualTo(422);
    assertThat(fields(unknownModel)).containsExactly("variants[1].version");
    assertThat(unknownModel.json().getString("error")).contains("does not serve model 'customer-churn' version '7'");

    Http.Reply noModel = put("churn", Specs.churn(90, 10).replace("\"model\": \"customer-churn\", \"version\": \"1\"",
        "\"model\": \"no-such-model\""));
    assertThat(noModel.status()).isEqualTo(422);
    assertThat(fields(noModel)).containsExactly("variants[0].model");
  }

  @Test
  void refusesAnUpstreamThatCannotBeReached() throws Exception {
    int closed = JavaProcess.freePort();
    Http.Reply reply = put("churn", Specs.churn(90, 10).replace("\"version\": \"2\"", "\"version\": \"2\","
        + " \"upstream\": \"127.0.0.1:" + closed + "\""));
    assertThat(reply.status()).isEqualTo(422);
    assertThat(fields(reply)).containsExactly("variants[1].upstream");
    assertThat(reply.json().getString("error")).contains("127.0.0.1:" + closed);
  }

  @Test
  void takesYamlSpecsAndServesThemOnTheDataPort() {
    String yaml = """
        sticky_key: {header: x-user-id}
        allow_override: true
        variants:
          - {name: stable, model: customer-churn, version: "1", weight: 100}
          - {name: canary, model: customer-churn, version: "2", weight: 0}
        """;
    Http.Reply reply = admin.request("PUT", "/admin/v1/endpoints/churn", "application/yaml", yaml, AUTH);
    assertThat(reply.status()).as(reply.body()).isEqualTo(201);
    Http.Reply answer = data.post("/v2/models/churn/infer", "application/json", Specs.disputedRow(), "x-user-id", "u1");
    assertThat(answer.status()).as(answer.body()).isEqualTo(200);
    assertThat(answer.header("x-gantry-variant")).isEqualTo("stable");
    // weight 0: warm, reachable by override, never chosen otherwise
    Http.Reply pinned = data.post("/v2/models/churn/infer", "application/json", Specs.disputedRow(),
        "x-gantry-variant", "canary");
    assertThat(pinned.header("x-gantry-variant")).isEqualTo("canary");
    assertThat(pinned.json().getString("model_version")).isEqualTo("2");
  }

  @Test
  void unknownAdminPathsAre404InTheAdminShape() {
    Http.Reply reply = admin.request("GET", "/admin/v1/nothing", null, null, AUTH);
    assertThat(reply.status()).isEqualTo(404);
    assertThat(reply.json().getString("error")).contains("/admin/v1/nothing");
  }

  @Test
  void withoutATokenTheAdminApiListensOnLoopbackOnly() {
    SidecarConfig open = SidecarConfig.parse(new String[] {"--host", "127.0.0.1", "--port", "0", "--runner-port",
        Integer.toString(runner.grpcPort()), "--admin-host", "0.0.0.0", "--admin-port", "0", "--cluster", "off",
        "--event-loops", "1"}, java.util.Map.of());
    try (Sidecar alone = Sidecar.start(open)) {
      assertThat(alone.adminHost()).isEqualTo("127.0.0.1");
      // and it needs no token there
      assertThat(new Http(alone.adminPort()).request("GET", "/admin/v1/endpoints", null, null).status())
          .isEqualTo(200);
    }
  }
}
