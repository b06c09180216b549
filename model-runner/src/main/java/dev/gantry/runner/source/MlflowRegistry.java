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
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.stream.StreamSupport;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The MLflow tracking server over its REST API, as documented for MLflow 2.x: the Model Registry
 * ({@code /api/2.0/mlflow/...}) resolves a {@code models:/} URI to one model version and the URI its files are
 * downloaded from; runs ({@code runs/get}) give a {@code runs:/} URI's artifact location; the artifact proxy
 * ({@code /api/2.0/mlflow-artifacts/artifacts}) lists and serves {@code mlflow-artifacts:/} files. Configured as
 * MLflow's own clients are, from {@code MLFLOW_TRACKING_URI} and {@code MLFLOW_TRACKING_TOKEN} (a bearer token) or
 * {@code MLFLOW_TRACKING_USERNAME}/{@code MLFLOW_TRACKING_PASSWORD} (basic), and {@code MLFLOW_TRACKING_INSECURE_TLS}
 * (do not check the server's certificate). Blocking: call it where a model is loaded, never on an event loop.
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
    this(tracking, authorization, timeout, false);
  }

  /**
   * @param insecureTls trust any certificate the server shows (MLflow's {@code MLFLOW_TRACKING_INSECURE_TLS}); the
   *     host name is still checked unless {@code -Djdk.internal.httpclient.disableHostnameVerification=true}
   */
  public MlflowRegistry(URI tracking, Optional<String> authorization, Duration timeout, boolean insecureTls) {
    this.tracking = requireNonNull(tracking, "tracking");
    this.authorization = requireNonNull(authorization, "authorization");
    this.timeout = requireNonNull(timeout, "timeout");
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(timeout)
        .followRedirects(HttpClient.Redirect.NORMAL);
    if (insecureTls) {
      b.sslContext(trustingEveryCertificate());
    }
    this.http = b.build();
  }

  /** The server this client talks to. */
  public URI trackingUri() {
    return tracking;
  }

  private static SSLContext trustingEveryCertificate() {
    TrustManager trustAll = new X509TrustManager() {
      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) {
        // the user asked for no check (MLFLOW_TRACKING_INSECURE_TLS)
      }

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) {
        // the user asked for no check (MLFLOW_TRACKING_INSECURE_TLS)
      }

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    };
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {trustAll}, new SecureRandom());
      return context;
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("no TLS context: " + e, e);
    }
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
    boolean insecure = "true".equalsIgnoreCase(env.getOrDefault("MLFLOW_TRACKING_INSECURE_TLS", "").trim());
    return Optional.of(new MlflowRegistry(URI.create(uri.replaceAll("/+$", "")), auth, Duration.ofSeconds(30),
        insecure));
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

  /** Where a {@code runs:/} URI's files are: the run's artifact URI ({@code runs/get}) joined with the path. */
  public String runArtifactUri(ModelUri.Run run) {
    String root = get(run, "/api/2.0/mlflow/runs/get", Map.of("run_id", run.runId())).path("run").path("info")
        .path("artifact_uri").asText("");
    if (root.isEmpty()) {
      throw new RegistryException(502, "'" + run.text() + "': the tracking server gave no artifact URI for run "
          + run.runId());
    }
    return root.replaceAll("/+$", "") + "/" + run.path().replaceAll("^/+", "");
  }

  /**
   * Downloads what an {@code mlflow-artifacts:} URI names, a directory (recursively) or one file, into {@code into},
   * through the tracking server's artifact proxy. {@code mlflow-artifacts://host:port/path} names another server.
   *
   * @throws IOException when a file cannot be written
   * @throws RegistryException when the server refuses, cannot be reached, or has nothing at that path
   */
  public void downloadArtifacts(ModelUri.Artifacts uri, Path into) throws IOException {
    URI base = tracking;
    String path = uri.path();
    if (uri.text().startsWith("mlflow-artifacts://") && !uri.text().startsWith("mlflow-artifacts:///")) {
      int slash = path.indexOf('/');
      String authority = slash < 0 ? path : path.substring(0, slash);
      path = slash < 0 ? "" : path.substring(slash + 1);
      base = URI.create(tracking.getScheme() + "://" + authority);
    }
    String root = path.replaceAll("/+$", "");
    int files = downloadTree(uri, base, root, into);
    if (files == 0) {
      // not a directory with files: perhaps one file
      Path target = into.resolve(root.substring(root.lastIndexOf('/') + 1));
      if (!downloadFile(uri, base, root, target)) {
        throw new RegistryException(404, "'" + uri.text() + "': the artifact store has nothing at " + root);
      }
    }
  }

  private int downloadTree(ModelUri uri, URI base, String dir, Path into) throws IOException {
    JsonNode listing = send(uri, HttpRequest.newBuilder(URI.create(base + "/api/2.0/mlflow-artifacts/artifacts?path="
        + URLEncoder.encode(dir, StandardCharsets.UTF_8))).GET());
    int count = 0;
    for (JsonNode f : listing.path("files")) {
      String name = f.path("path").asText("");
      name = name.substring(name.lastIndexOf('/') + 1);
      if (name.isEmpty() || name.equals(".") || name.equals("..")) {
        throw new RegistryException(502, "'" + uri.text() + "': the artifact store listed an unsafe name '"
            + f.path("path").asText() + "' under " + dir);
      }
      String child = dir.isEmpty() ? name : dir + "/" + name;
      if (f.path("is_dir").asBoolean(false)) {
        Files.createDirectories(into.resolve(name));
        count += downloadTree(uri, base, child, into.resolve(name));
      } else if (downloadFile(uri, base, child, into.resolve(name))) {
        count++;
      } else {
        throw new RegistryException(404, "'" + uri.text() + "': " + child + " was listed but could not be downloaded");
      }
    }
    return count;
  }

  /** @return false when the server has no such file (404) */
  private boolean downloadFile(ModelUri uri, URI base, String file, Path target) throws IOException {
    StringBuilder encoded = new StringBuilder();
    for (String part : file.split("/")) {
      encoded.append('/').append(URLEncoder.encode(part, StandardCharsets.UTF_8).replace("+", "%20"));
    }
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/api/2.0/mlflow-artifacts/artifacts" + encoded))
        .GET().timeout(timeout);
    authorization.ifPresent(a -> b.header("authorization", a));
    HttpResponse<Path> r;
    Path part = target.resolveSibling(target.getFileName() + ".part");
    try {
      r = http.send(b.build(), HttpResponse.BodyHandlers.ofFile(part));
    } catch (IOException e) {
      Files.deleteIfExists(part);
      throw new RegistryException(0, "'" + uri.text() + "': the artifact proxy at " + base
          + " could not be reached: " + e.getMessage() + tlsHint(e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      Files.deleteIfExists(part);
      throw new RegistryException(0, "'" + uri.text() + "': interrupted while downloading " + file);
    }
    if (r.statusCode() == 404) {
      Files.deleteIfExists(part);
      return false;
    }
    if (r.statusCode() / 100 != 2) {
      String body = Files.readString(part);
      Files.deleteIfExists(part);
      throw new RegistryException(r.statusCode(), "'" + uri.text() + "': the artifact proxy answered HTTP "
          + r.statusCode() + " for " + file + ": " + body + (r.statusCode() == 401 || r.statusCode() == 403
          ? " (set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD)" : ""));
    }
    Files.move(part, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return true;
  }

  private static String tlsHint(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof javax.net.ssl.SSLException) {
        return " (the server's TLS certificate is not trusted: add its CA to the JVM's trust store, or set"
            + " MLFLOW_TRACKING_INSECURE_TLS=true to skip the check)";
      }
    }
    return "";
  }

  private static Optional<String> text(JsonNode n, String field) {
    return n.hasNonNull(field) && !n.path(field).asText().isEmpty() ? Optional.of(n.path(field).asText())
        : Optional.empty();
  }

  private JsonNode get(ModelUri uri, String path, Map<String, String> query) {
    StringBuilder q = new StringBuilder();
    query.forEach((k, v) -> q.append(q.length() == 0 ? "?" : "&").append(k).append('=')
        .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
    return send(uri, HttpRequest.newBuilder(URI.create(tracking + path + q)).GET());
  }

  private JsonNode post(ModelUri uri, String path, String body) {
    return send(uri, HttpRequest.newBuilder(URI.create(tracking + path)).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  private JsonNode send(ModelUri uri, HttpRequest.Builder b) {
    authorization.ifPresent(a -> b.header("authorization", a));
    HttpResponse<String> r;
    try {
      r = http.send(b.timeout(timeout).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new RegistryException(0, "'" + uri.text() + "': the MLflow tracking server at " + tracking
          + " could not be reached: " + e.getMessage() + tlsHint(e));
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
