package dev.gantry.sidecar.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code k8s/injection} as {@code kubectl kustomize} renders it: the webhooks call the injector's Service on the paths
 * and scopes the injector serves, cert-manager's certificate covers that Service's DNS name and is the CA injected
 * into the configuration, and the injector's Deployment starts the entry point that exists, with the certificate the
 * Secret holds.
 */
class InjectionManifestsTest {
  @Test
  void theWebhooksReachTheInjectorWithACertificateForItsName() throws Exception {
    List<HasMetadata> objects = KubernetesManifestsTest.renderDir(KubernetesManifestsTest.root()
        .resolve("k8s/injection"));
    MutatingWebhookConfiguration config = KubernetesManifestsTest.one(objects, MutatingWebhookConfiguration.class,
        "gantry-sidecar-injector");
    Service service = KubernetesManifestsTest.one(objects, Service.class, "gantry-injector");
    String namespace = service.getMetadata().getNamespace();
    Map<String, MutatingWebhook> hooks = new java.util.HashMap<>();
    config.getWebhooks().forEach(w -> hooks.put(w.getName(), w));
    assertThat(hooks).containsOnlyKeys("namespace.inject.gantry.dev", "pod.inject.gantry.dev");
    for (MutatingWebhook w : config.getWebhooks()) {
      assertThat(w.getClientConfig().getService().getName()).isEqualTo(service.getMetadata().getName());
      assertThat(w.getClientConfig().getService().getNamespace()).isEqualTo(namespace);
      assertThat(w.getClientConfig().getService().getPort()).isEqualTo(service.getSpec().getPorts().get(0).getPort());
      assertThat(w.getAdmissionReviewVersions()).contains("v1");
      assertThat(w.getSideEffects()).isEqualTo("None");
      assertThat(w.getRules()).allMatch(r -> r.getResources().equals(List.of("pods"))
          && r.getOperations().equals(List.of("CREATE")));
    }
    assertThat(hooks.get("namespace.inject.gantry.dev").getClientConfig().getService().getPath())
        .isEqualTo("/mutate?scope=namespace");
    assertThat(hooks.get("namespace.inject.gantry.dev").getFailurePolicy()).isEqualTo("Fail");
    assertThat(hooks.get("namespace.inject.gantry.dev").getNamespaceSelector().getMatchLabels())
        .containsEntry("gantry.dev/injection", "enabled");
    MutatingWebhook perPod = hooks.get("pod.inject.gantry.dev");
    assertThat(perPod.getClientConfig().getService().getPath()).isEqualTo("/mutate?scope=pod");
    assertThat(perPod.getFailurePolicy()).isEqualTo("Ignore");
    // the injector's own namespace never waits on the injector
    assertThat(perPod.getNamespaceSelector().getMatchExpressions()).anyMatch(e -> e.getOperator().equals("NotIn")
        && e.getValues().contains(namespace));

    GenericKubernetesResource certificate = all(objects, "Certificate");
    assertThat(config.getMetadata().getAnnotations()).containsEntry("cert-manager.io/inject-ca-from",
        namespace + "/" + certificate.getMetadata().getName());
    @SuppressWarnings("unchecked")
    List<String> dnsNames = (List<String>) ((Map<String, Object>) certificate.getAdditionalProperties().get("spec"))
        .get("dnsNames");
    assertThat(dnsNames).contains(service.getMetadata().getName() + "." + namespace + ".svc");
    String secret = (String) ((Map<String, Object>) certificate.getAdditionalProperties().get("spec"))
        .get("secretName");

    Deployment injector = KubernetesManifestsTest.one(objects, Deployment.class, "gantry-injector");
    Container c = injector.getSpec().getTemplate().getSpec().getContainers().get(0);
    String mainClass = c.getCommand().get(c.getCommand().size() - 1);
    assertThat(Class.forName(mainClass)).isEqualTo(dev.gantry.sidecar.inject.InjectorMain.class);
    assertThat(injector.getSpec().getTemplate().getSpec().getVolumes()).anyMatch(v -> v.getSecret() != null
        && v.getSecret().getSecretName().equals(secret));
    assertThat(c.getArgs()).contains("--tls-cert=/certs/tls.crt", "--tls-key=/certs/tls.key");
    assertThat(c.getVolumeMounts()).anyMatch(m -> m.getMountPath().equals("/certs"));
    assertThat(c.getPorts().get(0).getContainerPort()).isEqualTo(8443);
    assertThat(service.getSpec().getPorts().get(0).getTargetPort().getStrVal()).isEqualTo(c.getPorts().get(0)
        .getName());
  }

  static GenericKubernetesResource all(List<HasMetadata> objects, String kind) {
    return objects.stream().filter(o -> o instanceof GenericKubernetesResource && o.getKind().equals(kind))
        .map(GenericKubernetesResource.class::cast).findFirst().orElseThrow();
  }
}
