package dev.gantry.sidecar.rollout.istio;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

/**
 * Builds the Kubernetes client a mesh-level rollout talks through. fabric8 configures it itself: in a pod from the
 * ServiceAccount's token, CA and namespace under {@code /var/run/secrets/kubernetes.io/serviceaccount}, elsewhere
 * from {@code ~/.kube/config} and {@code KUBERNETES_*} variables. The ServiceAccount needs {@code istio/rbac.yaml}'s
 * Role. HTTP goes through the JDK's own client, so the sidecar carries no second Vert.x or Netty.
 */
public final class KubernetesClients {
  private KubernetesClients() {}

  /** A client configured from the pod's ServiceAccount (or the local kubeconfig); the caller closes it. */
  public static KubernetesClient inCluster() {
    return new KubernetesClientBuilder().build();
  }
}
