package dev.gantry.sidecar.rollout.istio;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.SidecarException;
import dev.gantry.sidecar.routing.SpecProblem;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRoute;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRouteDestination;
import io.fabric8.istio.api.networking.v1.VirtualService;
import io.fabric8.istio.client.IstioClient;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.net.HttpURLConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A rollout's canary weight as an Istio VirtualService's split (networking.istio.io/v1): in one http route, the
 * destination of the stable subset gets {@code 100 - w} and the destination of the canary subset gets {@code w}.
 *
 * <p>Each change reads the VirtualService, sets those two weights and nothing else, and replaces it with the
 * {@code resourceVersion} it read, so that a concurrent writer (a person's {@code kubectl apply}, GitOps) is never
 * overwritten: on 409 Conflict it reads again and retries, a bounded number of times. The calls block; run them on a
 * worker thread, never on an event loop.
 *
 * <p>A VirtualService, route or subset that is not there is a {@link SidecarException} (not found) that names it and
 * says what to add; an API server that refuses or cannot be reached is one that is unavailable.
 */
public final class IstioTrafficSplit {
  private static final Logger LOG = LoggerFactory.getLogger(IstioTrafficSplit.class);

  /** Tries of one change when others keep writing the VirtualService between our read and our write. */
  public static final int DEFAULT_ATTEMPTS = 5;
  /** The wait before the second try; it grows by as much before each try after. */
  public static final Duration DEFAULT_BACKOFF = Duration.ofMillis(100);

  private final MixedOperation<VirtualService, ?, Resource<VirtualService>> virtualServices;
  private final IstioSplitSpec spec;
  private final String namespace;
  private final int maxAttempts;
  private final Duration backoff;

  /** With {@value #DEFAULT_ATTEMPTS} tries per change and a {@link #DEFAULT_BACKOFF} backoff. */
  public IstioTrafficSplit(KubernetesClient client, IstioSplitSpec spec) {
    this(client, spec, DEFAULT_ATTEMPTS, DEFAULT_BACKOFF);
  }

  /**
   * @param client a Kubernetes client; its namespace is the VirtualService's when the spec names none
   * @param spec a valid spec
   * @param maxAttempts tries of one change under conflicts, at least 1
   * @param backoff the wait before the second try (then twice as long before the third, and so on)
   * @throws SidecarException (invalid argument) when the spec has problems or no namespace can be found
   */
  public IstioTrafficSplit(KubernetesClient client, IstioSplitSpec spec, int maxAttempts, Duration backoff) {
    requireNonNull(client, "client");
    this.spec = requireNonNull(spec, "spec");
    this.backoff = requireNonNull(backoff, "backoff");
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
    }
    this.maxAttempts = maxAttempts;
    List<SpecProblem> problems = spec.problems();
    if (!problems.isEmpty()) {
      throw SidecarException.invalid("istio: " + problems.stream().map(SpecProblem::toString)
          .collect(Collectors.joining("; ")));
    }
    this.namespace = spec.namespaceOr(client.getNamespace());
    if (namespace == null) {
      throw SidecarException.invalid("istio.namespace: the Kubernetes client has no namespace configured (outside a"
          + " pod?); set namespace: to the VirtualService's");
    }
    this.virtualServices = client.adapt(IstioClient.class).v1().virtualServices();
  }

  /** The namespace the VirtualService is looked for in. */
  public String namespace() {
    return namespace;
  }

  /**
   * Sets the canary subset's weight to {@code canaryWeight} and the stable subset's to {@code 100 - canaryWeight};
   * does not write when they already are. Blocks.
   *
   * @throws SidecarException not found: no such VirtualService, route or subset; unavailable: the API server
   *     refused or could not be reached, or others kept writing for every one of the tries
   */
  public void apply(int canaryWeight) {
    if (canaryWeight < 0 || canaryWeight > 100) {
      throw new IllegalArgumentException("a canary weight must be 0 to 100, got " + canaryWeight);
    }
    for (int attempt = 1; ; attempt++) {
      VirtualService vs = read();
      Split split = locate(vs);
      if (weight(split.stable()) == 100 - canaryWeight && weight(split.canary()) == canaryWeight) {
        LOG.debug("event=istio_split_unchanged virtual_service={} canary_weight={}", name(), canaryWeight);
        return;
      }
      split.stable().setWeight(100 - canaryWeight);
      split.canary().setWeight(canaryWeight);
      try {
        virtualServices.inNamespace(namespace).resource(vs).update();
        LOG.info("event=istio_split_set virtual_service={} route={} stable_subset={} stable_weight={}"
            + " canary_subset={} canary_weight={} attempts={}", name(), split.routeName(), spec.stableSubset(),
            100 - canaryWeight, spec.canarySubset(), canaryWeight, attempt);
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
          throw unavailable("could not be updated", e);
        }
        if (attempt >= maxAttempts) {
          throw new SidecarException(ErrorKind.UNAVAILABLE, "VirtualService " + name() + " was changed by another"
              + " writer between our read and our write " + attempt + " times in a row; the canary weight "
              + canaryWeight + " was not set");
        }
        LOG.info("event=istio_split_conflict virtual_service={} attempt={} of={} resource_version={}", name(),
            attempt, maxAttempts, vs.getMetadata().getResourceVersion());
        pause(backoff.multipliedBy(attempt));
      }
    }
  }

  /**
   * The canary subset's weight in the VirtualService now (a destination without a weight counts as 0). Blocks.
   *
   * @throws SidecarException as {@link #apply(int)} does
   */
  public int canaryWeight() {
    return weight(locate(read()).canary());
  }

  private VirtualService read() {
    VirtualService vs;
    try {
      vs = virtualServices.inNamespace(namespace).withName(spec.virtualService()).get();
    } catch (KubernetesClientException e) {
      throw unavailable("could not be read", e);
    }
    if (vs == null) {
      throw new SidecarException(ErrorKind.NOT_FOUND, "VirtualService " + name() + " does not exist; create it (see"
          + " istio/virtualservice.yaml) or fix istio.virtual_service / istio.namespace");
    }
    return vs;
  }

  /** The route and its two destinations the spec names. */
  private Split locate(VirtualService vs) {
    List<HTTPRoute> routes = vs.getSpec() == null || vs.getSpec().getHttp() == null ? List.of()
        : vs.getSpec().getHttp();
    if (spec.route() != null) {
      for (HTTPRoute route : routes) {
        if (spec.route().equals(route.getName())) {
          HTTPRouteDestination stable = destination(route, spec.stableSubset());
          HTTPRouteDestination canary = destination(route, spec.canarySubset());
          if (stable == null || canary == null) {
            throw new SidecarException(ErrorKind.NOT_FOUND, "http route '" + spec.route() + "' of VirtualService "
                + name() + " has no destination with subset '" + (stable == null ? spec.stableSubset()
                : spec.canarySubset()) + "'" + hostClause() + "; add one to the route (weight 0 for a new canary)");
          }
          return new Split(spec.route(), stable, canary);
        }
      }
      throw new SidecarException(ErrorKind.NOT_FOUND, "VirtualService " + name() + " has no http route named '"
          + spec.route() + "'; its http routes: " + names(routes) + "; fix istio.route or leave it out");
    }
    for (int i = 0; i < routes.size(); i++) {
      HTTPRoute route = routes.get(i);
      HTTPRouteDestination stable = destination(route, spec.stableSubset());
      HTTPRouteDestination canary = destination(route, spec.canarySubset());
      if (stable != null && canary != null) {
        return new Split(route.getName() == null ? "#" + i : route.getName(), stable, canary);
      }
    }
    throw new SidecarException(ErrorKind.NOT_FOUND, "VirtualService " + name() + " has no http route with a"
        + " destination for subset '" + spec.stableSubset() + "' and one for subset '" + spec.canarySubset() + "'"
        + hostClause() + "; add both to the route to split (weight 0 for a new canary)");
  }

  /** The route's one destination with the subset (and host, when the spec names one); null when there is none. */
  private HTTPRouteDestination destination(HTTPRoute route, String subset) {
    List<HTTPRouteDestination> found = new ArrayList<>();
    for (HTTPRouteDestination d : route.getRoute() == null ? List.<HTTPRouteDestination>of() : route.getRoute()) {
      if (d.getDestination() != null && subset.equals(d.getDestination().getSubset())
          && hostMatches(d.getDestination().getHost())) {
        found.add(d);
      }
    }
    if (found.size() > 1) {
      throw new SidecarException(ErrorKind.INVALID_ARGUMENT, "http route '" + route.getName() + "' of VirtualService "
          + name() + " has " + found.size() + " destinations with subset '" + subset + "' (hosts " + found.stream()
          .map(d -> d.getDestination().getHost()).toList() + "); set istio.host to say which one to weigh");
    }
    return found.isEmpty() ? null : found.get(0);
  }

  /** Equal, or one is the other with the namespace and cluster domain after it ({@code churn}, {@code churn.models}). */
  private boolean hostMatches(String host) {
    if (spec.host() == null) {
      return true;
    }
    return host != null && (host.equals(spec.host()) || host.startsWith(spec.host() + ".")
        || spec.host().startsWith(host + "."));
  }

  private String hostClause() {
    return spec.host() == null ? "" : " and host '" + spec.host() + "'";
  }

  private static List<String> names(List<HTTPRoute> routes) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < routes.size(); i++) {
      names.add(routes.get(i).getName() == null ? "(unnamed #" + i + ")" : routes.get(i).getName());
    }
    return names;
  }

  private static int weight(HTTPRouteDestination d) {
    return d.getWeight() == null ? 0 : d.getWeight();
  }

  private String name() {
    return namespace + "/" + spec.virtualService();
  }

  private SidecarException unavailable(String what, KubernetesClientException e) {
    return new SidecarException(ErrorKind.UNAVAILABLE, "VirtualService " + name() + " " + what + ": HTTP " + e.getCode()
        + (e.getCode() == HttpURLConnection.HTTP_FORBIDDEN ? " (does the ServiceAccount have istio/rbac.yaml's Role?)"
        : "") + ": " + e.getMessage());
  }

  private void pause(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SidecarException(ErrorKind.CANCELLED, "interrupted while setting VirtualService " + name());
    }
  }

  private record Split(String routeName, HTTPRouteDestination stable, HTTPRouteDestination canary) {}
}
