package dev.gantry.runner.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The registry client against a stand-in for MLflow's tracking server (MLflow cannot be installed here): an HTTP
 * server answering the documented REST endpoints of MLflow 2.x's Model Registry ({@code model-versions/get},
 * {@code registered-models/alias}, {@code registered-models/get-latest-versions},
 * {@code model-versions/get-download-uri}) with bodies laid out as MLflow sends them, including its error bodies
 * ({@code {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": …}}).
 */
class MlflowRegistryTest {
  static Vertx vertx;
  static HttpServer server;
  static final AtomicReference<String> requiredAuth = new AtomicReference<>("Bearer t0ken");
  static final String NAME = "customer-churn-classifier";
  static final Map<Long, String> STAGES = Map.of(1L, "Archived", 2L, "Production", 3L, "Staging");
  static final Map<String, Long> ALIASES = Map.of("champion", 2L, "challenger", 3L);

  static JsonObject version(long v) {
    return new JsonObject().put("name", NAME).put("version", String.valueOf(v))
        .put("creation_timestamp", 1_732_000_000_000L + v).put("current_stage", STAGES.get(v))
        .put("source", "mlflow-artifacts:/1/run" + v + "/artifacts/model").put("run_id", "run" + v)
        .put("status", "READY");
  }

  static void notFound(HttpServerRequest req, String message) {
    req.response().setStatusCode(404).putHeader("content-type", "application/json").end(new JsonObject()
        .put("error_code", "RESOURCE_DOES_NOT_EXIST").put("message", message).encode());
  }

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      if (!requiredAuth.get().equals(req.getHeader("authorization"))) {
        req.response().setStatusCode(401).end(new JsonObject().put("error_code", "UNAUTHENTICATED")
            .put("message", "Invalid credentials").encode());
        return;
      }
      String name = req.getParam("name");
      switch (req.path()) {
        case "/api/2.0/mlflow/model-versions/get", "/api/2.0/mlflow/model-versions/get-download-uri" -> {
          long v = Long.parseLong(req.getParam("version"));
          if (!NAME.equals(name) || !STAGES.containsKey(v)) {
            notFound(req, "Model Version (name=" + name + ", version=" + v + ") not found");
          } else if (req.path().endsWith("get")) {
            req.response().end(new JsonObject().put("model_version", version(v)).encode());
          } else {
            req.response().end(new JsonObject().put("artifact_uri", "mlflow-artifacts:/1/run" + v + "/artifacts/model")
                .encode());
          }
        }
        case "/api/2.0/mlflow/registered-models/alias" -> {
          Long v = ALIASES.get(req.getParam("alias"));
          if (!NAME.equals(name) || v == null) {
            notFound(req, "Registered model alias " + req.getParam("alias") + " not found.");
          } else {
            req.response().end(new JsonObject().put("model_version", version(v).put("aliases",
                new JsonArray().add(req.getParam("alias")))).encode());
          }
        }
        case "/api/2.0/mlflow/registered-models/get-latest-versions" -> {
          JsonObject q = body.toJsonObject();
          if (!NAME.equals(q.getString("name"))) {
            notFound(req, "Registered Model with name=" + q.getString("name") + " not found");
            return;
          }
          JsonArray stages = q.getJsonArray("stages", new JsonArray());
          JsonArray out = new JsonArray();
          STAGES.forEach((v, s) -> {
            if (stages.isEmpty() || stages.stream().anyMatch(x -> s.equalsIgnoreCase((String) x))) {
              out.add(version(v));
            }
          });
          req.response().end(new JsonObject().put("model_versions", out).encode());
        }
        default -> req.response().setStatusCode(404).end();
      }
    })).listen(0, "127.0.0.1").await();
  }

  @AfterAll
  static void stop() {
    vertx.close().await();
  }

  static MlflowRegistry registry(Map<String, String> env) {
    return MlflowRegistry.fromEnvironment(env).orElseThrow();
  }

  static Map<String, String> tokenEnv() {
    return Map.of("MLFLOW_TRACKING_URI", "http://127.0.0.1:" + server.actualPort() + "/",
        "MLFLOW_TRACKING_TOKEN", "t0ken");
  }

  static MlflowRegistry.ModelVersion resolve(String uri) {
    return registry(tokenEnv()).resolve((ModelUri.Registered) ModelUri.parse(uri));
  }

  @Test
  void resolvesAVersionAStageTheLatestAndAnAlias() {
    requiredAuth.set("Bearer t0ken");
    MlflowRegistry.ModelVersion v1 = resolve("models:/" + NAME + "/1");
    assertThat(v1.version()).isEqualTo(1);
    assertThat(v1.stage()).hasValue("Archived");
    assertThat(v1.downloadUri()).isEqualTo("mlflow-artifacts:/1/run1/artifacts/model");
    assertThat(resolve("models:/" + NAME + "/Production").version()).isEqualTo(2);
    assertThat(resolve("models:/" + NAME + "/production").version()).isEqualTo(2);
    assertThat(resolve("models:/" + NAME + "/latest").version()).isEqualTo(3);
    MlflowRegistry.ModelVersion champion = resolve("models:/" + NAME + "@champion");
    assertThat(champion.version()).isEqualTo(2);
    assertThat(champion.runId()).hasValue("run2");
    assertThat(resolve("models:/" + NAME + "@challenger").version()).isEqualTo(3);
  }

  @Test
  void authenticatesWithBasicCredentials() {
    requiredAuth.set("Basic " + Base64.getEncoder().encodeToString("ml-ops:s3cret".getBytes()));
    try {
      MlflowRegistry basic = registry(Map.of("MLFLOW_TRACKING_URI", "http://127.0.0.1:" + server.actualPort(),
          "MLFLOW_TRACKING_USERNAME", "ml-ops", "MLFLOW_TRACKING_PASSWORD", "s3cret"));
      assertThat(basic.resolve((ModelUri.Registered) ModelUri.parse("models:/" + NAME + "@champion")).version())
          .isEqualTo(2);
      // the token is not what this server takes: a clear 401 saying how to authenticate
      assertThatThrownBy(() -> resolve("models:/" + NAME + "@champion"))
          .isInstanceOfSatisfying(MlflowRegistry.RegistryException.class, e -> assertThat(e.status()).isEqualTo(401))
          .hasMessageContaining("UNAUTHENTICATED").hasMessageContaining("MLFLOW_TRACKING_TOKEN");
    } finally {
      requiredAuth.set("Bearer t0ken");
    }
  }

  @Test
  void insecureTlsSkipsTheCertificateCheckOnlyWhenAskedTo(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
      throws Exception {
    java.nio.file.Path keyStore = tmp.resolve("mlflow.p12");
    Process keytool = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "keytool")
        .toString(), "-genkeypair", "-alias", "mlflow", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
        "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-storetype", "PKCS12", "-keystore",
        keyStore.toString(), "-storepass", "changeit", "-keypass", "changeit").redirectErrorStream(true).start();
    assertThat(keytool.waitFor()).as(new String(keytool.getInputStream().readAllBytes())).isZero();
    try (MlflowStandIn https = new MlflowStandIn(keyStore, "changeit")) {
      https.register(NAME, 5, "Production", tmp);
      assertThat(https.uri()).startsWith("https://");
      ModelUri.Registered uri = (ModelUri.Registered) ModelUri.parse("models:/" + NAME + "/Production");
      // a self-signed certificate: refused, with what to do about it
      assertThatThrownBy(() -> registry(Map.of("MLFLOW_TRACKING_URI", https.uri())).resolve(uri))
          .isInstanceOfSatisfying(MlflowRegistry.RegistryException.class, e -> assertThat(e.status()).isZero())
          .hasMessageContaining("MLFLOW_TRACKING_INSECURE_TLS=true");
      assertThat(registry(Map.of("MLFLOW_TRACKING_URI", https.uri(), "MLFLOW_TRACKING_INSECURE_TLS", "false"))
          .trackingUri().toString()).isEqualTo(https.uri());
      assertThatThrownBy(() -> registry(Map.of("MLFLOW_TRACKING_URI", https.uri(), "MLFLOW_TRACKING_INSECURE_TLS",
          "false")).resolve(uri)).isInstanceOf(MlflowRegistry.RegistryException.class);
      MlflowRegistry insecure = registry(Map.of("MLFLOW_TRACKING_URI", https.uri(), "MLFLOW_TRACKING_INSECURE_TLS",
          "true"));
      assertThat(insecure.resolve(uri).version()).isEqualTo(5);
    }
  }

  @Test
  void unknownModelsVersionsAndAliasesAreClearErrorsNamingTheUri() {
    requiredAuth.set("Bearer t0ken");
    for (String uri : List.of("models:/nope/1", "models:/" + NAME + "/9", "models:/" + NAME + "@nobody",
        "models:/nope/Production", "models:/" + NAME + "/Shadow")) {
      assertThatThrownBy(() -> resolve(uri)).as(uri).isInstanceOfSatisfying(MlflowRegistry.RegistryException.class,
          e -> assertThat(e.status()).isEqualTo(404)).hasMessageContaining("'" + uri + "'");
    }
    assertThatThrownBy(() -> resolve("models:/nope/1")).hasMessageContaining("RESOURCE_DOES_NOT_EXIST");
    assertThatThrownBy(() -> resolve("models:/" + NAME + "/Shadow")).hasMessageContaining("no version in stage");
    MlflowRegistry down = registry(Map.of("MLFLOW_TRACKING_URI", "http://127.0.0.1:1"));
    assertThatThrownBy(() -> down.resolve((ModelUri.Registered) ModelUri.parse("models:/m/1")))
        .isInstanceOfSatisfying(MlflowRegistry.RegistryException.class, e -> assertThat(e.status()).isZero())
        .hasMessageContaining("could not be reached");
    assertThat(MlflowRegistry.fromEnvironment(Map.of())).isEmpty();
  }
}
