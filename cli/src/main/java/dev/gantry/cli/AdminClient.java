package dev.gantry.cli;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Optional;

/** The admin API over HTTP: each call answers its status and JSON body, or fails with a message for the user. */
final class AdminClient {
  /** An answer of the admin API. */
  record Reply(int status, JsonNode body) {
    boolean ok() {
      return status >= 200 && status < 300;
    }

    /** The error message and each problem's field, as the admin API writes them. */
    String error() {
      StringBuilder sb = new StringBuilder(body.path("error").asText("HTTP " + status));
      for (JsonNode p : body.path("problems")) {
        sb.append(System.lineSeparator()).append("  ").append(p.path("field").asText()).append(": ")
            .append(p.path("message").asText());
      }
      return sb.toString();
    }
  }

  /** A call that reached no admin API. */
  static final class Unreachable extends RuntimeException {
    Unreachable(String message) {
      super(message);
    }
  }

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final ObjectMapper json = new ObjectMapper();
  private final URI server;
  private final Optional<String> token;

  AdminClient(URI server, Optional<String> token) {
    this.server = requireNonNull(server, "server");
    this.token = requireNonNull(token, "token");
  }

  Reply get(String path) {
    return send(HttpRequest.newBuilder(uri(path)).GET());
  }

  Reply put(String path, String jsonBody, Optional<String> ifMatch) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).PUT(HttpRequest.BodyPublishers.ofString(jsonBody))
        .header("content-type", "application/json");
    ifMatch.ifPresent(r -> b.header("if-match", "\"" + r + "\""));
    return send(b);
  }

  Reply post(String path) {
    return send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.noBody()));
  }

  Reply delete(String path, Optional<String> ifMatch) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).DELETE();
    ifMatch.ifPresent(r -> b.header("if-match", "\"" + r + "\""));
    return send(b);
  }

  private URI uri(String path) {
    String base = server.toString().endsWith("/") ? server.toString().substring(0, server.toString().length() - 1)
        : server.toString();
    return URI.create(base + path);
  }

  private Reply send(HttpRequest.Builder b) {
    token.ifPresent(t -> b.header("authorization", "Bearer " + t));
    try {
      HttpResponse<String> r = http.send(b.timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
      JsonNode body;
      try {
        body = r.body().isBlank() ? json.createObjectNode() : json.readTree(r.body());
      } catch (IOException e) {
        throw new Unreachable(server + " answered HTTP " + r.statusCode() + " with a body that is not JSON: is it a"
            + " Gantry sidecar's admin port?");
      }
      return new Reply(r.statusCode(), body);
    } catch (ConnectException e) {
      throw new Unreachable("cannot connect to the admin API at " + server + " (set --server or GANTRY_ADMIN_URL)");
    } catch (HttpTimeoutException e) {
      throw new Unreachable("the admin API at " + server + " did not answer in time");
    } catch (IOException e) {
      throw new Unreachable("the admin API at " + server + " could not be reached: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unreachable("interrupted");
    }
  }
}
