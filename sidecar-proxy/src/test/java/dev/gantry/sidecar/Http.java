package dev.gantry.sidecar;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** A plain HTTP/1.1 client for tests (the JDK's), answering status, headers and body. */
public final class Http {
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final int port;

  /** A response. */
  public record Reply(int status, String body, Map<String, java.util.List<String>> headers) {
    public JsonObject json() {
      return new JsonObject(body);
    }

    public String header(String name) {
      return headers.getOrDefault(name, java.util.List.of()).stream().findFirst().orElse(null);
    }
  }

  public Http(int port) {
    this.port = port;
  }

  public Reply get(String path) {
    return send(HttpRequest.newBuilder(uri(path)).GET());
  }

  public Reply postJson(String path, String body) {
    return post(path, "application/json", body);
  }

  public Reply post(String path, String contentType, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("content-type", contentType);
    }
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return send(b);
  }

  /**
   * Any method, with a body or none ({@code body} null), and headers as name, value, …
   */
  public Reply request(String method, String path, String contentType, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).method(method, body == null
        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("content-type", contentType);
    }
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return send(b);
  }

  /** Like {@link #post}, but a failed exchange (refused, reset) is a reply with status -1 and the error as body. */
  public Reply tryPost(String path, String contentType, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body))
        .header("content-type", contentType);
    try {
      HttpResponse<String> r = client.send(b.timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.body(), r.headers().map());
    } catch (Exception e) {
      return new Reply(-1, String.valueOf(e), Map.of());
    }
  }

  /** Like {@link #get}, but a failed exchange (refused, reset) is a reply with status -1 and the error as body. */
  public Reply tryGet(String path) {
    try {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri(path)).GET().timeout(Duration.ofSeconds(30))
          .build(), HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.body(), r.headers().map());
    } catch (Exception e) {
      return new Reply(-1, String.valueOf(e), Map.of());
    }
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  private Reply send(HttpRequest.Builder b) {
    try {
      HttpResponse<String> r = client.send(b.timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.body(), r.headers().map());
    } catch (Exception e) {
      throw new AssertionError("HTTP call failed: " + e, e);
    }
  }
}
