package dev.gantry.sidecar.admin;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.cluster.StateStore;
import dev.gantry.sidecar.core.SidecarException;
import dev.gantry.sidecar.routing.SpecProblem;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API, on its own port: declarative specs (endpoints, shadows) with revisions. Every request needs
 * {@code Authorization: Bearer <token>} when a token is configured; without one the server listens on loopback only.
 *
 * <pre>
 * GET    /admin/v1/endpoints           every endpoint
 * GET    /admin/v1/endpoints/{name}    one (ETag: its revision)
 * PUT    /admin/v1/endpoints/{name}    the whole spec, JSON or YAML; If-Match: "revision" guards concurrent edits
 * DELETE /admin/v1/endpoints/{name}    If-Match as for PUT
 * GET    /admin/v1/cluster             this member and the members it sees
 * </pre>
 *
 * Errors are {@code {"error": "…", "problems": [{"field": "variants[1].weight", "message": "…"}]}} with 400 (not
 * readable), 401 (no or wrong token), 404, 409 (a write race that kept losing), 412 (stale If-Match), 415 or 422 (not
 * valid).
 */
public final class AdminServer {
  private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
  private static final int MAX_SPEC_BYTES = 1 << 20;

  private final HttpServer server;
  private final String host;

  private AdminServer(HttpServer server, String host) {
    this.server = server;
    this.host = host;
  }

  /**
   * Starts the admin API.
   *
   * @param token the bearer token; empty: no token, and the server binds loopback whatever {@code host} says
   * @param kinds the kinds of object it keeps, each at {@code /admin/v1/<plural>}
   * @param extra more routes (under {@code /admin/v1/}), behind the same token check
   */
  public static AdminServer start(Vertx vertx, String host, int port, Optional<String> token,
      List<SpecAdmin<?, ?>> kinds, StateStore store, java.util.function.Consumer<Router> extra) {
    requireNonNull(token, "token");
    String bind = host;
    if (token.isEmpty() && !isLoopback(host)) {
      LOG.warn("event=admin_loopback_only reason=\"no admin token is set\" asked_host={} fix=\"set --admin-token or"
          + " GANTRY_ADMIN_TOKEN to listen on {}\"", host, host);
      bind = "127.0.0.1";
    }
    Router router = Router.router(vertx);
    Optional<BearerToken> check = token.map(BearerToken::new);
    router.route().handler(rc -> {
      if (check.isPresent() && !check.get().accepts(rc.request().getHeader(HttpHeaders.AUTHORIZATION))) {
        rc.response().putHeader("WWW-Authenticate", "Bearer realm=\"gantry-admin\"");
        error(rc, new AdminException(401, rc.request().getHeader(HttpHeaders.AUTHORIZATION) == null
            ? "this admin API needs 'Authorization: Bearer <token>'" : "the bearer token is not the admin token"));
        return;
      }
      rc.next();
    });
    router.route().handler(BodyHandler.create(false).setBodyLimit(MAX_SPEC_BYTES));
    extra.accept(router);
    for (SpecAdmin<?, ?> kind : kinds) {
      mount(router, kind);
    }
    router.get("/admin/v1/cluster").handler(rc -> answer(rc, vertx.executeBlocking(() -> new JsonObject()
        .put("self", store.self()).put("members", new JsonArray(store.members())), false)));
    router.route().last().handler(rc -> error(rc, new AdminException(404, "no admin resource "
        + rc.request().method() + " " + rc.request().path() + "; see /admin/v1/"
        + String.join(", /admin/v1/", kinds.stream().map(k -> k.kind().stateKind().plural()).toList()))));
    router.route().failureHandler(rc -> {
      if (rc.failure() instanceof AdminException e) {
        error(rc, e);
      } else if (rc.statusCode() == 413) {
        error(rc, new AdminException(413, "a spec may be at most " + MAX_SPEC_BYTES + " bytes"));
      } else if (rc.statusCode() == 405) {
        error(rc, new AdminException(405, "method " + rc.request().method() + " is not allowed on "
            + rc.request().path()));
      } else {
        LOG.error("event=admin_request_failed path={} reason=\"{}\"", rc.request().path(),
            rc.failure() == null ? rc.statusCode() : rc.failure().toString(), rc.failure());
        error(rc, new AdminException(500, "the admin request failed: " + (rc.failure() == null ? "HTTP "
            + rc.statusCode() : rc.failure().getMessage())));
      }
    });
    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost(bind).setPort(port))
        .requestHandler(router).listen().await();
    LOG.info("event=admin_started host={} port={} token={}", bind, server.actualPort(),
        token.isPresent() ? "required" : "none (loopback only)");
    return new AdminServer(server, bind);
  }

  /** The list, get, put and delete routes of one kind. */
  private static <S, R> void mount(Router router, SpecAdmin<S, R> admin) {
    SpecKind<S, R> kind = admin.kind();
    String base = "/admin/v1/" + kind.stateKind().plural();
    router.get(base).handler(rc -> answer(rc, admin.list().map(list -> {
      JsonArray items = new JsonArray();
      list.forEach(r -> items.add(kind.view(r)));
      return new JsonObject().put("items", items);
    })));
    router.get(base + "/:name").handler(rc -> answer(rc, admin.get(rc.pathParam("name")).map(r -> {
      etag(rc, kind.revision(r));
      return kind.view(r);
    })));
    router.put(base + "/:name").handler(rc -> {
      S spec;
      OptionalLong ifMatch;
      try {
        spec = named(kind, readSpec(rc, kind), rc.pathParam("name"));
        ifMatch = ifMatch(rc);
      } catch (AdminException e) {
        error(rc, e);
        return;
      }
      answer(rc, admin.apply(spec, ifMatch).map(o -> {
        etag(rc, kind.revision(o.record()));
        rc.response().setStatusCode(o.change() == SpecAdmin.Change.CREATED ? 201 : 200);
        return kind.view(o.record()).put("change", o.change().name().toLowerCase(Locale.ROOT));
      }));
    });
    router.delete(base + "/:name").handler(rc -> {
      OptionalLong ifMatch;
      try {
        ifMatch = ifMatch(rc);
      } catch (AdminException e) {
        error(rc, e);
        return;
      }
      answer(rc, admin.delete(rc.pathParam("name"), ifMatch).map(r -> kind.view(r).put("change", "deleted")));
    });
  }

  public int port() {
    return server.actualPort();
  }

  /** The address it listens on: loopback whenever no token is set. */
  public String host() {
    return host;
  }

  public Future<Void> close() {
    return server.close();
  }

  static boolean isLoopback(String host) {
    return host.equals("localhost") || host.startsWith("127.") || host.equals("::1") || host.equals("[::1]");
  }

  private static <S> S readSpec(RoutingContext rc, SpecKind<S, ?> kind) {
    String body = rc.body() == null ? null : rc.body().asString();
    if (body == null || body.isBlank()) {
      throw new AdminException(400, "the request body is empty; send the " + kind.noun() + "'s spec as JSON or YAML");
    }
    String type = Optional.ofNullable(rc.request().getHeader(HttpHeaders.CONTENT_TYPE)).orElse("application/json")
        .split(";")[0].trim().toLowerCase(Locale.ROOT);
    try {
      return switch (type) {
        case "application/json" -> kind.json(body);
        case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml" -> kind.yaml(body);
        default -> throw new AdminException(415, "content type '" + type + "' is not taken; send application/json"
            + " or application/yaml");
      };
    } catch (SidecarException e) {
      throw new AdminException(400, e.getMessage(), problemsOf(e.getMessage()));
    }
  }

  /** The field a parse error names ({@code endpoint spec: variants[1].weight: expected …}), as a problem. */
  private static List<SpecProblem> problemsOf(String message) {
    int prefix = message.indexOf(" spec: ");
    if (prefix > 0) {
      String rest = message.substring(prefix + " spec: ".length());
      int colon = rest.indexOf(": ");
      if (colon > 0 && !rest.substring(0, colon).contains(" ")) {
        return List.of(new SpecProblem(rest.substring(0, colon), rest.substring(colon + 2)));
      }
    }
    return List.of();
  }

  /** The spec with the path's name; a body naming another object is refused. */
  private static <S> S named(SpecKind<S, ?> kind, S spec, String name) {
    String given = kind.name(spec);
    if (given != null && !given.equals(name)) {
      throw new AdminException(422, "the spec's name '" + given + "' is not the " + kind.noun() + " in the path, '"
          + name + "'", List.of(new SpecProblem("name", "must be '" + name + "' (the name in the path) or left out")));
    }
    return kind.named(spec, name);
  }

  /** What {@code If-Match: *} asks for: any revision, as long as the endpoint exists. */
  static final long ANY_REVISION = -1;

  /**
   * {@code If-Match: "3"} (or {@code 3}); {@code "0"} means "only if it does not exist yet", {@code *} "only if it
   * exists".
   */
  private static OptionalLong ifMatch(RoutingContext rc) {
    String value = rc.request().getHeader(HttpHeaders.IF_MATCH);
    if (value == null) {
      return OptionalLong.empty();
    }
    String bare = value.trim();
    if (bare.equals("*")) {
      return OptionalLong.of(ANY_REVISION);
    }
    if (bare.startsWith("W/")) {
      bare = bare.substring(2);
    }
    bare = bare.replace("\"", "");
    try {
      long revision = Long.parseLong(bare);
      if (revision >= 0) {
        return OptionalLong.of(revision);
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new AdminException(400, "If-Match must be a revision in quotes, e.g. If-Match: \"3\"; got '" + value + "'");
  }

  private static void etag(RoutingContext rc, long revision) {
    rc.response().putHeader(HttpHeaders.ETAG, "\"" + revision + "\"");
  }

  /** Answers with the JSON a future gives, or the error in the admin API's shape. */
  public static void answer(RoutingContext rc, Future<JsonObject> result) {
    result.onComplete(ar -> {
      if (ar.succeeded()) {
        rc.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(ar.result().encodePrettily());
      } else if (ar.cause() instanceof AdminException e) {
        error(rc, e);
      } else {
        LOG.error("event=admin_request_failed path={} reason=\"{}\"", rc.request().path(), ar.cause().toString(),
            ar.cause());
        error(rc, new AdminException(503, "cluster state could not be read or written: " + ar.cause().getMessage()));
      }
    });
  }

  /** Answers {@code {"error": …, "problems": […]}} with the error's status. */
  public static void error(RoutingContext rc, AdminException e) {
    if (rc.response().ended()) {
      return;
    }
    JsonArray problems = new JsonArray();
    e.problems().forEach(p -> problems.add(new JsonObject().put("field", p.path()).put("message", p.message())));
    JsonObject body = new JsonObject().put("error", e.getMessage());
    if (!problems.isEmpty()) {
      body.put("problems", problems);
    }
    rc.response().setStatusCode(e.status()).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(body.encodePrettily());
  }
}
