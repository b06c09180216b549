package dev.gantry.sidecar.routing;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.core.SidecarException;
import dev.gantry.sidecar.runner.Upstreams;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * The route layer of the request path: a model name that is an endpoint is sent to one of its variants (by sticky
 * key, at random, or by the override header where allowed); any other name goes to the pod's own runner unchanged.
 * It reads the local snapshot of cluster state only, and never blocks.
 */
public final class RouteLayer {
  private final EndpointTable table;
  private final Upstreams upstreams;

  /**
   * Where one request goes.
   *
   * @param model the model name to ask the upstream for
   * @param version the version to ask for ("" for the upstream's default)
   * @param link the upstream
   * @param assignment the endpoint and variant, when the request called an endpoint
   */
  public record Target(String model, String version, Upstreams.Link link, Optional<Assignment> assignment) {
    public Target {
      requireNonNull(model, "model");
      requireNonNull(version, "version");
      requireNonNull(link, "link");
      requireNonNull(assignment, "assignment");
    }

    /** The request as the upstream must get it: the variant's model and version, or unchanged for no endpoint. */
    public dev.gantry.proto.inference.ModelInferRequest rewrite(dev.gantry.proto.inference.ModelInferRequest request) {
      return assignment.isEmpty() ? request
          : request.toBuilder().setModelName(model).setModelVersion(version).build();
    }

    /** The endpoint's name, or "" for a request that called no endpoint. */
    public String endpointName() {
      return assignment.map(a -> a.endpoint().name()).orElse("");
    }

    /** The variant's name, or "" for a request that called no endpoint. */
    public String variantName() {
      return assignment.map(a -> a.variant().name()).orElse("");
    }
  }

  /** Whether a name is an endpoint's now (a request calling it is routed among the endpoint's variants). */
  public boolean isEndpoint(String model) {
    return table.snapshot().isEndpoint(model);
  }

  public RouteLayer(EndpointTable table, Upstreams upstreams) {
    this.table = requireNonNull(table, "table");
    this.upstreams = requireNonNull(upstreams, "upstreams");
  }

  /**
   * The target of a request.
   *
   * @param model the model name the request called
   * @param version the version it asked for ("" for none)
   * @param header a request header (or gRPC metadata) by lower-case name, null when absent
   * @throws SidecarException invalid argument for a version asked of an endpoint, or an override naming no variant
   */
  public Target route(String model, String version, Function<String, String> header) {
    EndpointTable.Snapshot snapshot = table.snapshot();
    if (!snapshot.isEndpoint(model)) {
      return new Target(model, version, upstreams.local(), Optional.empty());
    }
    if (!version.isEmpty()) {
      throw SidecarException.invalid("'" + model + "' is an endpoint that splits traffic between variants; call it"
          + " without a version (where the endpoint allows it, pin a variant with " + Router.OVERRIDE_HEADER + ")");
    }
    Endpoint endpoint = snapshot.endpoints().get(model);
    String key = endpoint.stickyKey().map(k -> stickyKey(k, header)).orElse(null);
    Assignment a = snapshot.router().route(model, key, header.apply(Router.OVERRIDE_HEADER),
        ThreadLocalRandom.current()).orElseThrow();
    return target(a);
  }

  /**
   * The target that describes an endpoint for metadata and readiness: the variant with the largest weight (the first
   * of equals). Any other name is itself.
   */
  public Target describe(String model, String version) {
    Optional<Endpoint> endpoint = table.snapshot().endpoint(model);
    if (endpoint.isEmpty() || !version.isEmpty()) {
      return new Target(model, version, upstreams.local(), Optional.empty());
    }
    Variant widest = endpoint.get().variants().get(0);
    for (Variant v : endpoint.get().variants()) {
      if (v.weight() > widest.weight()) {
        widest = v;
      }
    }
    return target(new Assignment(endpoint.get(), widest, Assignment.By.OVERRIDE));
  }

  private Target target(Assignment a) {
    Variant v = a.variant();
    Upstreams.Link link = v.upstream() instanceof Upstream.Remote r ? upstreams.remote(r.host(), r.port())
        : upstreams.local();
    return new Target(v.model(), v.version().orElse(""), link, Optional.of(a));
  }

  /** The link a variant's upstream names. */
  public Upstreams.Link link(Upstream upstream) {
    return upstream instanceof Upstream.Remote r ? upstreams.remote(r.host(), r.port()) : upstreams.local();
  }

  /** The endpoint snapshot the layer reads. */
  public EndpointTable table() {
    return table;
  }

  private static String stickyKey(StickyKey key, Function<String, String> header) {
    if (key.source() != StickyKey.Source.COOKIE) {
      return header.apply(key.name());
    }
    String cookies = header.apply("cookie");
    if (cookies == null) {
      return null;
    }
    for (String pair : cookies.split(";")) {
      int eq = pair.indexOf('=');
      if (eq > 0 && pair.substring(0, eq).trim().equals(key.name())) {
        String value = pair.substring(eq + 1).trim();
        return value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")
            ? value.substring(1, value.length() - 1) : value;
      }
    }
    return null;
  }
}
