package dev.gantry.sidecar.inject;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mutating admission webhook over HTTPS: {@code POST /mutate?scope=namespace|pod} takes an
 * {@code admission.k8s.io/v1} AdmissionReview for a pod and answers it with the sidecar as a JSON Patch, or with no
 * patch. A body that is not an AdmissionReview gets a 400 saying what is wrong; a pod that cannot take the sidecar is
 * not admitted, with the reason. {@code GET /healthz} is its probe. Pure computation: nothing blocks the event loop.
 */
public final class InjectorServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(InjectorServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BODY = 4 << 20;

  private final Vertx vertx;
  private final HttpServer server;
  private final SidecarInjector injector;

  private InjectorServer(Vertx vertx, HttpServerOptions options, SidecarInjector injector) {
    this.vertx = vertx;
    this.injector = injector;
    this.server = vertx.createHttpServer(options).requestHandler(this::handle);
  }

  /** Listens on {@code host:port} (0: a free port) with the PEM certificate chain and key. */
  public static InjectorServer start(SidecarInjector injector, String host, int port, Path certificate, Path key) {
    requireNonNull(injector, "injector");
    Vertx vertx = Vertx.vertx();
    InjectorServer server = new InjectorServer(vertx, new HttpServerOptions().setHost(host).setPort(port).setSsl(true)
        .setKeyCertOptions(new PemKeyCertOptions().setCertPath(certificate.toString()).setKeyPath(key.toString())),
        injector);
    try {
      server.server.listen().await();
    } catch (RuntimeException e) {
      vertx.close().await();
      throw new IllegalArgumentException("the injector cannot listen on " + host + ":" + port + " with certificate "
          + certificate + " and key " + key + ": " + e.getMessage(), e);
    }
    LOG.info("event=injector_started port={}", server.port());
    return server;
  }

  public int port() {
    return server.actualPort();
  }

  private void handle(HttpServerRequest req) {
    if (req.path().equals("/healthz")) {
      req.response().end("ok\n");
      return;
    }
    if (!req.path().equals("/mutate") || req.method() != io.vertx.core.http.HttpMethod.POST) {
      req.response().setStatusCode(404).end("POST /mutate?scope=namespace|pod takes an AdmissionReview\n");
      return;
    }
    String scopeParam = req.getParam("scope", "pod");
    SidecarInjector.Scope scope;
    try {
      scope = SidecarInjector.Scope.valueOf(scopeParam.toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      refuse(req, "scope '" + scopeParam + "' is neither namespace nor pod");
      return;
    }
    req.body().onSuccess(body -> {
      if (body.length() > MAX_BODY) {
        refuse(req, "the AdmissionReview is larger than " + MAX_BODY + " bytes");
        return;
      }
      JsonNode review;
      try {
        review = JSON.readTree(body.toString(StandardCharsets.UTF_8));
      } catch (IOException e) {
        refuse(req, "the body is not JSON: " + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j
            ? j.getOriginalMessage() : e.getMessage()));
        return;
      }
      if (review == null || !review.path("kind").asText().equals("AdmissionReview")
          || !review.path("apiVersion").asText().equals("admission.k8s.io/v1")) {
        refuse(req, "the body is not an admission.k8s.io/v1 AdmissionReview (apiVersion '"
            + (review == null ? "" : review.path("apiVersion").asText()) + "', kind '"
            + (review == null ? "" : review.path("kind").asText()) + "')");
        return;
      }
      JsonNode request = review.path("request");
      if (!request.path("uid").isTextual() || request.path("uid").asText().isEmpty()) {
        refuse(req, "the AdmissionReview has no request.uid");
        return;
      }
      req.response().putHeader("content-type", "application/json").end(answer(review, request, scope).toString());
    }).onFailure(e -> refuse(req, "the body could not be read: " + e.getMessage()));
  }

  /** The AdmissionReview answer for one request. */
  private ObjectNode answer(JsonNode review, JsonNode request, SidecarInjector.Scope scope) {
    ObjectNode out = JSON.createObjectNode().put("apiVersion", "admission.k8s.io/v1").put("kind", "AdmissionReview");
    ObjectNode response = out.putObject("response").put("uid", request.path("uid").asText());
    String name = request.path("namespace").asText("") + "/" + request.path("object").path("metadata")
        .path("name").asText(request.path("object").path("metadata").path("generateName").asText("") + "*");
    if (!request.path("kind").path("kind").asText().equals("Pod") || !request.path("object").isObject()) {
      // not a pod (a misconfigured webhook rule): admitted untouched
      response.put("allowed", true);
      return out;
    }
    try {
      Optional<ArrayNode> patch = injector.patch(request.path("object"), scope);
      response.put("allowed", true);
      if (patch.isPresent()) {
        response.put("patchType", "JSONPatch").put("patch", Base64.getEncoder().encodeToString(
            patch.get().toString().getBytes(StandardCharsets.UTF_8)));
        LOG.info("event=sidecar_injected pod={} scope={}", name, scope);
      }
    } catch (SidecarInjector.Refused e) {
      response.put("allowed", false).putObject("status").put("code", 400)
          .put("message", "Gantry sidecar injection: " + e.getMessage());
      LOG.warn("event=sidecar_injection_refused pod={} reason=\"{}\"", name, e.getMessage());
    }
    return out;
  }

  private static void refuse(HttpServerRequest req, String why) {
    req.response().setStatusCode(400).putHeader("content-type", "text/plain; charset=utf-8")
        .end("Gantry sidecar injector: " + why + "\n");
  }

  @Override
  public void close() {
    vertx.close().await();
  }
}
