package dev.gantry.runner.source;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.stream.StreamSupport;

/**
 * The MLflow Model Registry over the tracking server's REST API ({@code /api/2.0/mlflow/...}, as documented for
 * MLflow 2.x): resolves a {@code models:/} URI to one model version and the URI its files are downloaded from.
 * Configured as MLflow's own clients are, from {@code MLFLOW_TRACKING_URI} and {@code MLFLOW_TRACKING_TOKEN} (a bearer
 * token) or {@code MLFLOW_TRACKING_USERNAME}/{@code MLFLOW_TRACKING_PASSWORD} (basic). Blocking: call it where a
 * model is loaded, never on an event loop.
 */
public final class MlflowRegistry {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final URI tracking;
  private final Optional<String> authorization;
  private final HttpClient http;
  private final Duration timeout;

  /** A model version the registry resolved a URI to. */
  public record ModelVersion(String name, long version, String source, Optional<String> runId,
      Optional<String> stage, String downloadUri) {}

  /** The registry could not resolve a URI: its message names the URI and what the registry said. */
  public static final class RegistryException extends RuntimeException {
    private final int status;

    RegistryException(int status, String message) {
      super(message);
      this.status = status;
    }

    /** The registry's HTTP status (0 when it could not be reached). */
    public int status() {
      return status;
    }
  }

  public MlflowRegistry(URI tracking, Optional<String> authorization, Duration timeout) {
    this.tracking = requireNonNull(tracking, "tracking");
    this.authorization = requireNonNull(authorization, "authorization");
    this.timeout = requireNonNull(timeout, "timeout");
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  /**
   * The registry MLflow's environment variables describe; empty without {@code MLFLOW_TRACKING_URI}.
   */
  public static Optional<MlflowRegistry> fromEnvironment(Map<String, String> env) {
    String uri = env.get("MLFLOW_TRACKING_URI");
    if (uri == null || uri.isBlank()) {
      return Optional.empty();
    }
    Optional<String> auth = Optional.empty();
    if (env.get("MLFLOW_TRACKING_TOKEN") != null && !env.get("MLFLOW_TRACKING_TOKEN").isBlank()) {
      auth = Optional.of("Bearer " + env.get("MLFLOW_TRACKING_TOKEN"));
    } else if (env.get("MLFLOW_TRACKING_USERNAME") != null) {
      auth = Optional.of("Basic " + Base64.getEncoder().encodeToString((env.get("MLFLOW_TRACKING_USERNAME") + ":"
          + env.getOrDefault("MLFLOW_TRACKING_PASSWORD", "")).getBytes(StandardCharsets.UTF_8)));
    }
    return Optional.of(new MlflowRegistry(URI.create(uri.replaceAll("/+$", "")), auth, Duration.ofSeconds(30)));
  }

  /** The version a registry URI names now, with its download URI. */
  public ModelVersion resolve(ModelUri.Registered uri) {
    JsonNode mv;
    if (uri.version().isPresent()) {
      mv = get(uri, "/api/2.0/mlflow/model-versions/get", Map.of("name", uri.name(), "version",
          String.valueOf(uri.version().get()))).path("model_version");
    } else if (uri.alias().isPresent()) {
      mv = get(uri, "/api/2.0/mlflow/registered-models/alias", Map.of("name", uri.name(), "alias",
          uri.alias().get())).path("model_version");
    } else {
      String body = uri.stage().isPresent()
          ? JSON.createObjectNode().put("name", uri.name()).set("stages", JSON.createArrayNode().add(uri.stage().get()))
              .toString()
          : JSON.createObjectNode().put("name", uri.name()).toString();
      JsonNode versions = post(uri, "/api/2.0/mlflow/registered-models/get-latest-versions", body)
          .path("model_versions");
      mv = StreamSupport.stream(versions.spliterator(), false)
          .filter(v -> uri.stage().isEmpty() || v.path("current_stage").asText().equalsIgnoreCase(uri.stage().get()))
          .max(Comparator.comparingLong(v -> v.path("version").asLong()))
          .orElseThrow(() -> new RegistryException(404, "'" + uri.text() + "': registered model '" + uri.name()
              + "' has no version" + uri.stage().map(s -> " in stage " + s).orElse("")));
    }
    if (mv.isMissingNode() || !mv.has("version")) {
      throw new RegistryException(502, "'" + uri.text() + "': the registry's answer has no model version");
    }
    long version = mv.path("version").asLong();
    String download = get(uri, "/api/2.0/mlflow/model-versions/get-download-uri", Map.of("name", uri.name(),
        "version", String.valueOf(version))).path("artifact_uri").asText("");
    if (download.isEmpty()) {
      throw new RegistryException(502, "'" + uri.text() + "': the registry gave no download URI for version "
          + version);
    }
    return new ModelVersion(mv.path("name").asText(uri.name()), version, mv.path("source").asText(""),
        text(mv, "run_id"), text(mv, "current_stage"), download);
  }

  private static Optional<String> text(JsonNode n, String field) {
    return n.hasNonNull(field) && !n.path(field).asText().isEmpty() ? Optional.of(n.path(field).asText())
        : Optional.empty();
  }

  private JsonNode get(ModelUri uri, String path, Map<String, String> query) {
    StringBuilder q = new StringBuilder();
    query.forEach((k, v) -> q.append(q.length() == 0 ? "?" : "&").append(k).append('=')
        .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
    return send(uri, HttpRequest.newBuilder(tracking.resolve(path + q)).GET());
  }

  private JsonNode post(ModelUri uri, String path, String body) {
    return send(uri, HttpRequest.newBuilder(tracking.resolve(path)).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  private JsonNode send(ModelUri uri, HttpRequest.Builder b) {
    authorization.ifPresent(a -> b.header("authorization", a));
    HttpResponse<String> r;
    try {
      r = http.send(b.timeout(timeout).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new RegistryException(0, "'" + uri.text() + "': the MLflow tracking server at " + tracking
          + " could not be reached: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RegistryException(0, "'" + uri.text() + "': interrupted while asking the registry");
    }
    JsonNode body;
    try {
      body = JSON.readTree(r.body() == null || r.body().isEmpty() ? "{}" : r.body());
    } catch (IOException e) {
      body = JSON.createObjectNode();
    }
    if (r.statusCode() / 100 != 2) {
      String said = body.path("error_code").asText("HTTP " + r.statusCode()) + ": " + body.path("message")
          .asText(r.body());
      String hint = r.statusCode() == 401 || r.statusCode() == 403
          ? " (set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD)" : "";
      throw new RegistryException(r.statusCode(), "'" + uri.text() + "': the registry answered " + said + hint);
    }
    return body;
  }
}
