package dev.gantry.runner.source;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A stand-in for an MLflow 2.x tracking server with proxied artifacts ({@code mlflow server --serve-artifacts}),
 * which cannot be installed on these machines. It answers the REST endpoints documented for MLflow 2.x that Gantry
 * calls, with bodies laid out as MLflow sends them:
 * <ul>
 *   <li>Model Registry: {@code model-versions/get}, {@code model-versions/get-download-uri},
 *       {@code registered-models/alias}, {@code registered-models/get-latest-versions};
 *   <li>{@code runs/get} (a run's {@code info.artifact_uri});
 *   <li>the artifact proxy: {@code GET /api/2.0/mlflow-artifacts/artifacts?path=…} lists a directory as
 *       {@code {"files": [{"path": <base name>, "is_dir": …, "file_size": "…"}]}}, and
 *       {@code GET /api/2.0/mlflow-artifacts/artifacts/<path>} sends a file.
 * </ul>
 * Errors are MLflow's: a 404 with {@code {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": …}}. Model versions,
 * aliases and artifact files can be changed while it runs, as a team changes a real registry.
 */
public final class MlflowStandIn implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final HttpServer server;
  private final boolean tls;
  private final Map<String, Map<Long, JsonObject>> versions = new ConcurrentHashMap<>();
  private final Map<String, Long> aliases = new ConcurrentHashMap<>();
  private final Map<String, Path> artifacts = new ConcurrentHashMap<>();
  private final AtomicInteger fileDownloads = new AtomicInteger();
  private volatile Optional<String> requiredAuthorization = Optional.empty();

  public MlflowStandIn() {
    this(null, null);
  }

  /** Over HTTPS with the key and certificate of a PKCS#12 key store, as a server behind TLS. */
  public MlflowStandIn(Path keyStore, String password) {
    io.vertx.core.http.HttpServerOptions options = new io.vertx.core.http.HttpServerOptions();
    if (keyStore != null) {
      options.setSsl(true).setKeyCertOptions(new io.vertx.core.net.PfxOptions().setPath(keyStore.toString())
          .setPassword(password));
    }
    tls = keyStore != null;
    server = vertx.createHttpServer(options).requestHandler(req -> req.body().onSuccess(body -> {
      if (requiredAuthorization.isPresent() && !requiredAuthorization.get().equals(req.getHeader("authorization"))) {
        req.response().setStatusCode(401).end(new JsonObject().put("error_code", "UNAUTHENTICATED")
            .put("message", "Invalid credentials").encode());
        return;
      }
      try {
        answer(req, body.length() == 0 ? new JsonObject() : body.toJsonObject());
      } catch (RuntimeException e) {
        req.response().setStatusCode(500).end(new JsonObject().put("error_code", "INTERNAL_ERROR")
            .put("message", e.toString()).encode());
      }
    })).listen(0, "127.0.0.1").await();
  }

  /** {@code http://127.0.0.1:port}: what MLFLOW_TRACKING_URI is set to. */
  public String uri() {
    return (tls ? "https" : "http") + "://127.0.0.1:" + server.actualPort();
  }

  /** Asks every call for this authorization header. */
  public MlflowStandIn requireAuthorization(String header) {
    requiredAuthorization = Optional.of(header);
    return this;
  }

  /**
   * Registers a version whose files are those of {@code dir}, logged by run {@code run-<name>-<version>}.
   *
   * @return the version's download URI
   */
  public String register(String name, long version, String stage, Path dir) {
    String run = "run-" + name + "-" + version;
    String artifactPath = "1/" + run + "/artifacts/model";
    artifacts.put(artifactPath, dir);
    versions.computeIfAbsent(name, n -> new ConcurrentHashMap<>()).put(version, new JsonObject()
        .put("name", name).put("version", String.valueOf(version))
        .put("creation_timestamp", 1_732_000_000_000L + version).put("last_updated_timestamp", 1_732_000_000_000L)
        .put("current_stage", stage).put("source", "mlflow-artifacts:/" + artifactPath).put("run_id", run)
        .put("status", "READY"));
    return "mlflow-artifacts:/" + artifactPath;
  }

  /** Registers a version whose files are at {@code source} (e.g. an {@code s3://} URI, as with an S3 artifact store). */
  public void registerAt(String name, long version, String stage, String source) {
    versions.computeIfAbsent(name, n -> new ConcurrentHashMap<>()).put(version, new JsonObject()
        .put("name", name).put("version", String.valueOf(version))
        .put("creation_timestamp", 1_732_000_000_000L + version).put("current_stage", stage).put("source", source)
        .put("run_id", "run-" + name + "-" + version).put("status", "READY"));
  }

  /** Points {@code name@alias} at a version (MLflow's set-alias). */
  public void setAlias(String name, String alias, long version) {
    aliases.put(name + "@" + alias, version);
  }

  /** Files sent by the artifact proxy so far. */
  public int fileDownloads() {
    return fileDownloads.get();
  }

  private void answer(HttpServerRequest req, JsonObject body) {
    String name = req.getParam("name");
    String path = req.path();
    if (path.startsWith("/api/2.0/mlflow-artifacts/artifacts")) {
      artifact(req, path.substring("/api/2.0/mlflow-artifacts/artifacts".length()));
      return;
    }
    switch (path) {
      case "/api/2.0/mlflow/model-versions/get", "/api/2.0/mlflow/model-versions/get-download-uri" -> {
        JsonObject mv = versions.getOrDefault(name, Map.of()).get(Long.parseLong(req.getParam("version")));
        if (mv == null) {
          notFound(req, "Model Version (name=" + name + ", version=" + req.getParam("version") + ") not found");
        } else if (path.endsWith("/get")) {
          ok(req, new JsonObject().put("model_version", mv));
        } else {
          ok(req, new JsonObject().put("artifact_uri", mv.getString("source")));
        }
      }
      case "/api/2.0/mlflow/registered-models/alias" -> {
        Long v = aliases.get(name + "@" + req.getParam("alias"));
        if (v == null || !versions.containsKey(name)) {
          notFound(req, "Registered model alias " + req.getParam("alias") + " not found.");
        } else {
          ok(req, new JsonObject().put("model_version", versions.get(name).get(v).copy()
              .put("aliases", new JsonArray().add(req.getParam("alias")))));
        }
      }
      case "/api/2.0/mlflow/registered-models/get-latest-versions" -> {
        String model = body.getString("name");
        if (!versions.containsKey(model)) {
          notFound(req, "Registered Model with name=" + model + " not found");
          return;
        }
        JsonArray stages = body.getJsonArray("stages", new JsonArray());
        Map<String, JsonObject> latestPerStage = new ConcurrentHashMap<>();
        versions.get(model).values().forEach(mv -> {
          String stage = mv.getString("current_stage");
          if (stages.isEmpty() || stages.stream().anyMatch(s -> stage.equalsIgnoreCase((String) s))) {
            latestPerStage.merge(stage, mv, (a, b) -> Long.parseLong(a.getString("version"))
                > Long.parseLong(b.getString("version")) ? a : b);
          }
        });
        ok(req, new JsonObject().put("model_versions", new JsonArray(latestPerStage.values().stream().toList())));
      }
      case "/api/2.0/mlflow/runs/get" -> {
        String run = req.getParam("run_id");
        boolean known = versions.values().stream().flatMap(m -> m.values().stream())
            .anyMatch(mv -> run.equals(mv.getString("run_id")));
        if (!known) {
          notFound(req, "Run '" + run + "' not found");
        } else {
          ok(req, new JsonObject().put("run", new JsonObject().put("info", new JsonObject().put("run_id", run)
              .put("artifact_uri", "mlflow-artifacts:/1/" + run + "/artifacts").put("status", "FINISHED"))));
        }
      }
      default -> req.response().setStatusCode(404).end();
    }
  }

  private void artifact(HttpServerRequest req, String rest) {
    String listed = req.getParam("path");
    if (rest.isEmpty() || rest.equals("/")) {
      Optional<Path> dir = local(listed == null ? "" : listed);
      JsonArray files = new JsonArray();
      if (dir.isPresent() && Files.isDirectory(dir.get())) {
        try (Stream<Path> children = Files.list(dir.get())) {
          for (Path c : children.sorted().toList()) {
            JsonObject f = new JsonObject().put("path", c.getFileName().toString()).put("is_dir", Files.isDirectory(c));
            if (!Files.isDirectory(c)) {
              f.put("file_size", String.valueOf(Files.size(c)));
            }
            files.add(f);
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      ok(req, files.isEmpty() ? new JsonObject() : new JsonObject().put("files", files));
      return;
    }
    Optional<Path> file = local(URLDecoder.decode(rest.substring(1), StandardCharsets.UTF_8));
    if (file.isEmpty() || !Files.isRegularFile(file.get())) {
      notFound(req, "File " + rest + " not found");
      return;
    }
    fileDownloads.incrementAndGet();
    req.response().putHeader("content-type", "application/octet-stream").sendFile(file.get().toString());
  }

  private Optional<Path> local(String artifactPath) {
    for (Map.Entry<String, Path> e : artifacts.entrySet()) {
      if (artifactPath.equals(e.getKey())) {
        return Optional.of(e.getValue());
      }
      if (artifactPath.startsWith(e.getKey() + "/")) {
        return Optional.of(e.getValue().resolve(artifactPath.substring(e.getKey().length() + 1)));
      }
    }
    return Optional.empty();
  }

  private static void ok(HttpServerRequest req, JsonObject body) {
    req.response().putHeader("content-type", "application/json").end(body.encode());
  }

  private static void notFound(HttpServerRequest req, String message) {
    req.response().setStatusCode(404).putHeader("content-type", "application/json").end(new JsonObject()
        .put("error_code", "RESOURCE_DOES_NOT_EXIST").put("message", message).encode());
  }

  @Override
  public void close() {
    vertx.close().await();
  }
}
