package dev.gantry.sidecar.inject;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.zjsonpatch.JsonPatch;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sidecar injector as the API server calls it: AdmissionReviews (admission.k8s.io/v1, laid out as the API server
 * sends them, around pod fixtures of several shapes) POSTed over a real TLS connection, which the client verifies
 * against the injector's certificate (made by openssl, as a cert-manager Certificate or the manual set-up makes it).
 * The returned JSON Patch is applied with a JSON Patch library and the result parsed as a typed Pod.
 */
class InjectorTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final KubernetesSerialization K8S = new KubernetesSerialization();
  @TempDir
  static Path certs;
  static InjectorServer server;
  static HttpClient https;

  @BeforeAll
  static void start() throws Exception {
    Process openssl;
    try {
      openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
          "-subj", "/CN=gantry-injector.gantry-system.svc", "-addext",
          "subjectAltName=DNS:gantry-injector.gantry-system.svc,IP:127.0.0.1",
          "-keyout", certs.resolve("tls.key").toString(), "-out", certs.resolve("tls.crt").toString())
          .redirectErrorStream(true).start();
    } catch (java.io.IOException e) {
      Assumptions.abort("openssl is not installed (.ci/run installs it): " + e.getMessage());
      return;
    }
    String out = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(openssl.waitFor()).as(out).isZero();
    server = InjectorServer.start(new SidecarInjector(new SidecarInjector.Defaults("gantry/sidecar-proxy:0.1.0",
        "500m", "512Mi", Optional.empty(), 8001, "gantry-hazelcast.$(POD_NAMESPACE).svc.cluster.local")),
        "127.0.0.1", 0, certs.resolve("tls.crt"), certs.resolve("tls.key"));
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(certs.resolve("tls.crt"))) {
      trust.setCertificateEntry("injector", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(null, tmf.getTrustManagers(), null);
    https = HttpClient.newBuilder().sslContext(tls).build();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  static JsonNode pod(String fixture) throws Exception {
    try (InputStream in = InjectorTest.class.getResourceAsStream("/admission/" + fixture)) {
      return JSON.readTree(in);
    }
  }

  /** An AdmissionReview as the API server sends it for a pod CREATE. */
  static ObjectNode review(JsonNode pod) {
    ObjectNode review = JSON.createObjectNode().put("apiVersion", "admission.k8s.io/v1").put("kind", "AdmissionReview");
    ObjectNode request = review.putObject("request").put("uid", UUID.randomUUID().toString());
    request.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
    request.putObject("resource").put("group", "").put("version", "v1").put("resource", "pods");
    request.put("namespace", pod.path("metadata").path("namespace").asText()).put("operation", "CREATE");
    request.putObject("userInfo").put("username", "system:serviceaccount:kube-system:replicaset-controller");
    request.set("object", pod);
    request.put("dryRun", false);
    return review;
  }

  static HttpResponse<String> post(String scope, String body) throws Exception {
    return https.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + server.port() + "/mutate?scope="
        + scope)).header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The injector's answer for a pod, and the pod after its patch (the same pod when there is none). */
  record Admitted(JsonNode response, JsonNode pod) {
    Pod typed() {
      return K8S.unmarshal(pod.toString(), Pod.class);
    }
  }

  static Admitted admit(JsonNode pod, String scope) throws Exception {
    ObjectNode review = review(pod);
    HttpResponse<String> r = post(scope, review.toString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode answer = JSON.readTree(r.body());
    assertThat(answer.path("apiVersion").asText()).isEqualTo("admission.k8s.io/v1");
    assertThat(answer.path("kind").asText()).isEqualTo("AdmissionReview");
    JsonNode response = answer.path("response");
    assertThat(response.path("uid").asText()).isEqualTo(review.path("request").path("uid").asText());
    if (!response.has("patch")) {
      return new Admitted(response, pod);
    }
    assertThat(response.path("patchType").asText()).isEqualTo("JSONPatch");
    JsonNode patch = JSON.readTree(Base64.getDecoder().decode(response.path("patch").asText()));
    return new Admitted(response, JsonPatch.apply(patch, pod));
  }

  static List<Container> sidecars(Pod pod) {
    return pod.getSpec().getContainers().stream().filter(c -> c.getName().equals("sidecar-proxy")).toList();
  }

  static String env(Container c, String name) {
    EnvVar v = c.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst().orElseThrow();
    return v.getValue();
  }

  @Test
  void anOptedInPodGetsExactlyOneSidecarWithItsPortsProbesEnvAndResources() throws Exception {
    Admitted a = admit(pod("pod-opted-in.json"), "pod");
    assertThat(a.response().path("allowed").asBoolean()).isTrue();
    Pod pod = a.typed();
    assertThat(pod.getSpec().getContainers()).hasSize(2);
    Container sidecar = sidecars(pod).get(0);
    assertThat(sidecars(pod)).hasSize(1);
    assertThat(sidecar.getImage()).isEqualTo("gantry/sidecar-proxy:0.1.0");
    assertThat(sidecar.getPorts()).extracting(p -> p.getContainerPort()).containsExactly(8080, 8081, 5701);
    assertThat(sidecar.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(sidecar.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/livez");
    assertThat(sidecar.getStartupProbe().getHttpGet().getPort().getStrVal()).isEqualTo("http");
    assertThat(env(sidecar, "GANTRY_RUNNER_HOST")).isEqualTo("127.0.0.1");
    assertThat(env(sidecar, "GANTRY_RUNNER_PORT")).isEqualTo("8001");
    assertThat(env(sidecar, "GANTRY_CLUSTER_KUBERNETES_DNS")).isEqualTo(
        "gantry-hazelcast.$(POD_NAMESPACE).svc.cluster.local");
    assertThat(sidecar.getEnv()).anyMatch(e -> e.getName().equals("POD_IP")
        && e.getValueFrom().getFieldRef().getFieldPath().equals("status.podIP"));
    assertThat(sidecar.getResources().getLimits().get("memory").toString()).isEqualTo("512Mi");
    assertThat(sidecar.getLifecycle().getPreStop().getExec().getCommand()).containsExactly("sleep", "5");
    // the pod's own container, volumes and annotations are untouched, and the pod is marked
    assertThat(pod.getSpec().getContainers().get(0).getName()).isEqualTo("model-runner");
    assertThat(pod.getSpec().getVolumes()).hasSize(1);
    assertThat(pod.getMetadata().getAnnotations()).containsEntry("gantry.dev/injected", "true")
        .containsEntry("kubectl.kubernetes.io/restartedAt", "2026-11-29T10:00:00Z");
  }

  @Test
  void injectingTwiceChangesNothing() throws Exception {
    Admitted once = admit(pod("pod-opted-in.json"), "pod");
    Admitted twice = admit(once.pod(), "pod");
    assertThat(twice.response().has("patch")).isFalse();
    assertThat(twice.response().path("allowed").asBoolean()).isTrue();
    assertThat(twice.pod()).isEqualTo(once.pod());
    // also when only the container is there (a pod written by hand with the sidecar in it)
    ObjectNode handWritten = (ObjectNode) once.pod().deepCopy();
    ((ObjectNode) handWritten.path("metadata").path("annotations")).remove("gantry.dev/injected");
    assertThat(admit(handWritten, "namespace").response().has("patch")).isFalse();
  }

  @Test
  void aLabelledNamespaceInjectsPodsThatDoNotOptOut() throws Exception {
    // no annotations map and no volumes at all: the patch creates what it adds to
    Admitted bare = admit(pod("pod-bare.json"), "namespace");
    assertThat(sidecars(bare.typed())).hasSize(1);
    assertThat(bare.typed().getMetadata().getAnnotations()).containsEntry("gantry.dev/injected", "true");
    // the same pod where the namespace is not labelled: only an opt-in injects
    assertThat(admit(pod("pod-bare.json"), "pod").response().has("patch")).isFalse();
    Admitted optedOut = admit(pod("pod-opted-out.json"), "namespace");
    assertThat(optedOut.response().has("patch")).isFalse();
    assertThat(optedOut.response().path("allowed").asBoolean()).isTrue();
  }

  @Test
  void annotationsOverrideImageResourcesConfigAndRunnerPort() throws Exception {
    Pod pod = admit(pod("pod-overrides.json"), "pod").typed();
    Container sidecar = sidecars(pod).get(0);
    assertThat(sidecar.getImage()).isEqualTo("registry.example.com/gantry/sidecar-proxy:0.2.0");
    assertThat(sidecar.getResources().getRequests().get("cpu").toString()).isEqualTo("250m");
    assertThat(sidecar.getResources().getLimits().get("memory").toString()).isEqualTo("384Mi");
    assertThat(env(sidecar, "GANTRY_RUNNER_PORT")).isEqualTo("9001");
    assertThat(sidecar.getArgs()).containsExactly("--config", "/etc/gantry/gantry.yaml");
    assertThat(sidecar.getVolumeMounts()).anyMatch(m -> m.getMountPath().equals("/etc/gantry"));
    assertThat(pod.getSpec().getVolumes()).extracting(v -> v.getName()).containsExactly("models",
        "gantry-sidecar-config");
    assertThat(pod.getSpec().getVolumes().get(1).getConfigMap().getName()).isEqualTo("fraud-gantry");
  }

  @Test
  void aPodThatCannotTakeTheSidecarIsRefusedWithTheReason() throws Exception {
    Admitted clash = admit(pod("pod-port-clash.json"), "pod");
    assertThat(clash.response().path("allowed").asBoolean()).isFalse();
    assertThat(clash.response().path("status").path("code").asInt()).isEqualTo(400);
    assertThat(clash.response().path("status").path("message").asText()).contains("'web'").contains("8080")
        .contains("gantry.dev/inject");
    ObjectNode badPort = (ObjectNode) pod("pod-overrides.json");
    ((ObjectNode) badPort.path("metadata").path("annotations")).put("gantry.dev/runner-port", "eighty");
    assertThat(admit(badPort, "pod").response().path("status").path("message").asText())
        .contains("gantry.dev/runner-port").contains("eighty");
  }

  @Test
  void aMalformedReviewGetsAClearRefusal() throws Exception {
    HttpResponse<String> notJson = post("pod", "{\"apiVersion\": \"admission.k8s.io/v1\", ");
    assertThat(notJson.statusCode()).isEqualTo(400);
    assertThat(notJson.body()).contains("not JSON");
    HttpResponse<String> wrongKind = post("pod", "{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}");
    assertThat(wrongKind.statusCode()).isEqualTo(400);
    assertThat(wrongKind.body()).contains("not an admission.k8s.io/v1 AdmissionReview").contains("kind 'Pod'");
    ObjectNode noUid = review(pod("pod-bare.json"));
    ((ObjectNode) noUid.path("request")).remove("uid");
    HttpResponse<String> missingUid = post("pod", noUid.toString());
    assertThat(missingUid.statusCode()).isEqualTo(400);
    assertThat(missingUid.body()).contains("no request.uid");
    assertThat(post("cluster", review(pod("pod-bare.json")).toString()).body()).contains("scope 'cluster'");
    // a review for something that is not a pod (a webhook rule too wide) is admitted untouched
    ObjectNode service = review(JSON.createObjectNode().put("kind", "Service"));
    ((ObjectNode) service.path("request").path("kind")).put("kind", "Service");
    HttpResponse<String> other = post("namespace", service.toString());
    assertThat(JSON.readTree(other.body()).path("response").path("allowed").asBoolean()).isTrue();
    assertThat(JSON.readTree(other.body()).path("response").has("patch")).isFalse();
  }
}
