package dev.gantry.sidecar.rollout.istio;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.gantry.sidecar.routing.SpecProblem;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Where a rollout sets its canary weight in the mesh: the {@code istio:} section of a rollout spec, as a user writes
 * it. For example:
 *
 * <pre>
 * istio:
 *   virtual_service: churn   # the VirtualService whose route is split
 *   namespace: models        # optional: the pod's own namespace when left out
 *   route: primary           # optional: the first http route with both subsets when left out
 *   host: churn              # optional: the destination host to match; any when left out
 *   stable_subset: stable    # DestinationRule subsets the two destinations name
 *   canary_subset: canary
 * </pre>
 *
 * Fields left out are {@code null}; {@link #problems()} says what is wrong with a spec.
 *
 * @param namespace the VirtualService's namespace; {@code null}: the namespace the Kubernetes client is configured
 *     with (in a pod, its own)
 * @param virtualService the VirtualService's name
 * @param route the name of the http route to split; {@code null}: the first http route that has a destination for
 *     each subset
 * @param host the destination host to match ({@code churn} also matches {@code churn.models.svc.cluster.local});
 *     {@code null}: any host
 * @param stableSubset the DestinationRule subset of the stable version
 * @param canarySubset the DestinationRule subset of the canary
 */
public record IstioSplitSpec(
    @JsonProperty("namespace") String namespace,
    @JsonProperty("virtual_service") String virtualService,
    @JsonProperty("route") String route,
    @JsonProperty("host") String host,
    @JsonProperty("stable_subset") String stableSubset,
    @JsonProperty("canary_subset") String canarySubset) {

  /** A DNS-1123 subdomain: what Kubernetes takes as an object's name. */
  private static final Pattern OBJECT_NAME =
      Pattern.compile("(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  /** A DNS-1123 label: what Kubernetes takes as a namespace. */
  private static final Pattern NAMESPACE = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  /** Route and subset names are free text to Kubernetes; these keep them to what Istio's own examples use. */
  private static final Pattern ROUTE_OR_SUBSET = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]{0,251}[A-Za-z0-9])?");
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9*]([-A-Za-z0-9_.]{0,251}[A-Za-z0-9])?");

  /** The spec for a VirtualService in the client's own namespace, on the first route with both subsets. */
  public static IstioSplitSpec of(String virtualService, String stableSubset, String canarySubset) {
    return new IstioSplitSpec(null, virtualService, null, null, stableSubset, canarySubset);
  }

  /** Everything wrong with this spec, each naming its field and the fix; empty when it is valid. */
  public List<SpecProblem> problems() {
    List<SpecProblem> problems = new ArrayList<>();
    if (namespace != null && !NAMESPACE.matcher(namespace).matches()) {
      problems.add(new SpecProblem("namespace", "must be a Kubernetes namespace (lower-case letters, digits and '-',"
          + " at most 63), got '" + namespace + "'; leave it out for the pod's own namespace"));
    }
    if (virtualService == null || virtualService.isBlank()) {
      problems.add(new SpecProblem("virtual_service", "is required: the name of the VirtualService whose route the"
          + " rollout splits"));
    } else if (!OBJECT_NAME.matcher(virtualService).matches()) {
      problems.add(new SpecProblem("virtual_service", "must be a Kubernetes object name (lower-case letters, digits,"
          + " '-' and '.'), got '" + virtualService + "'"));
    }
    if (route != null && !ROUTE_OR_SUBSET.matcher(route).matches()) {
      problems.add(new SpecProblem("route", "must be the name of an http route of the VirtualService, got '" + route
          + "'; leave it out for the first route with both subsets"));
    }
    if (host != null && !HOST.matcher(host).matches()) {
      problems.add(new SpecProblem("host", "must be a destination host such as 'churn' or"
          + " 'churn.models.svc.cluster.local', got '" + host + "'; leave it out to match any host"));
    }
    checkSubset(problems, "stable_subset", stableSubset, "stable");
    checkSubset(problems, "canary_subset", canarySubset, "canary");
    if (stableSubset != null && stableSubset.equals(canarySubset)) {
      problems.add(new SpecProblem("canary_subset", "must differ from stable_subset (both are '" + canarySubset
          + "'): the canary needs a subset of its own in the DestinationRule"));
    }
    return problems;
  }

  /** The namespace to use: this spec's, else {@code clientNamespace}. */
  String namespaceOr(String clientNamespace) {
    return namespace != null ? namespace : clientNamespace;
  }

  private static void checkSubset(List<SpecProblem> problems, String field, String value, String which) {
    if (value == null || value.isBlank()) {
      problems.add(new SpecProblem(field, "is required: the DestinationRule subset of the " + which + " version, as"
          + " the route's destination names it"));
    } else if (!ROUTE_OR_SUBSET.matcher(value).matches()) {
      problems.add(new SpecProblem(field, "must be a subset name (letters, digits, '-', '_' and '.'), got '" + value
          + "'"));
    }
  }
}
