package dev.gantry.sidecar.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.istio.api.api.networking.v1alpha3.Destination;
import io.fabric8.istio.api.networking.v1.DestinationRule;
import io.fabric8.istio.api.networking.v1.VirtualService;
import io.fabric8.istio.api.security.v1.PeerAuthentication;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@code istio/} and {@code istio/examples/} rendered by {@code kubectl kustomize} and parsed into fabric8's typed
 * Istio model: every route and mirror names a subset the DestinationRule defines, the subsets select the version
 * labels the Deployment's pods carry, and the PeerAuthentication selects Gantry's pods.
 */
class IstioManifestsTest {
  @Test
  void everyRouteAndMirrorNamesASubsetThatSelectsGantrysPods() throws Exception {
    List<HasMetadata> objects = new ArrayList<>(KubernetesManifestsTest.renderDir(KubernetesManifestsTest.root()
        .resolve("istio")));
    objects.addAll(KubernetesManifestsTest.renderDir(KubernetesManifestsTest.root().resolve("istio/examples")));
    assertThat(objects).noneMatch(o -> o instanceof GenericKubernetesResource);
    DestinationRule rule = KubernetesManifestsTest.one(objects, DestinationRule.class, "churn");
    Set<String> subsets = rule.getSpec().getSubsets().stream().map(s -> s.getName()).collect(Collectors.toSet());
    List<VirtualService> services = KubernetesManifestsTest.all(objects, VirtualService.class);
    assertThat(services).extracting(v -> v.getMetadata().getName())
        .contains("churn", "churn-split", "churn-mirror", "churn-ab");
    for (VirtualService vs : services) {
      for (var http : vs.getSpec().getHttp()) {
        List<Destination> destinations = new ArrayList<>();
        http.getRoute().forEach(r -> destinations.add(r.getDestination()));
        if (http.getMirror() != null) {
          destinations.add(http.getMirror());
          assertThat(http.getMirrorPercentage().getValue()).isBetween(0.0, 100.0);
        }
        for (Destination d : destinations) {
          assertThat(d.getHost()).as(vs.getMetadata().getName()).isEqualTo(rule.getSpec().getHost());
          assertThat(subsets).as(vs.getMetadata().getName()).contains(d.getSubset());
          assertThat(d.getPort().getNumber()).isEqualTo(8080L);
        }
        int total = http.getRoute().stream().mapToInt(r -> r.getWeight() == null ? 0 : r.getWeight()).sum();
        assertThat(http.getRoute().size() == 1 || total == 100).as(vs.getMetadata().getName() + " weights").isTrue();
      }
    }
    VirtualService ab = KubernetesManifestsTest.one(objects, VirtualService.class, "churn-ab");
    assertThat(ab.getSpec().getHttp().get(0).getMatch().get(0).getHeaders()).containsKey("x-experiment-group");
    // the stable subset selects the base Deployment's pods
    Deployment d = KubernetesManifestsTest.one(KubernetesManifestsTest.render("dev"), Deployment.class, "gantry");
    Map<String, String> podLabels = d.getSpec().getTemplate().getMetadata().getLabels();
    assertThat(podLabels).containsAllEntriesOf(rule.getSpec().getSubsets().stream()
        .filter(s -> s.getName().equals("stable")).findFirst().orElseThrow().getLabels());
    PeerAuthentication mtls = KubernetesManifestsTest.one(objects, PeerAuthentication.class, "gantry");
    assertThat(podLabels).containsAllEntriesOf(mtls.getSpec().getSelector().getMatchLabels());
  }
}
