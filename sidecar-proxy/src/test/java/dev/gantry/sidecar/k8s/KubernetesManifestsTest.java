package dev.gantry.sidecar.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Kubernetes manifests as a cluster would get them: each overlay rendered by the real {@code kubectl kustomize}
 * (kustomize v5 inside kubectl), parsed into fabric8's typed model, and checked for what makes a pod work: selectors
 * that match, probes on paths and ports the sidecar really serves (a real sidecar is asked), a runner nothing outside
 * the pod can reach, JVM heaps that fit the memory limits, and drain timings that match what both processes do on
 * SIGTERM. No API server runs here; these are the objects {@code kubectl apply -k} would send.
 */
class KubernetesManifestsTest {
  static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  static Path root() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("k8s/base"))) {
        return p;
      }
    }
    throw new IllegalStateException("k8s/ not found above " + Path.of("").toAbsolutePath());
  }

  static List<HasMetadata> render(String overlay) throws Exception {
    return renderDir(root().resolve("k8s/overlays").resolve(overlay));
  }

  /** What {@code kubectl kustomize dir} renders, as typed objects. */
  static List<HasMetadata> renderDir(Path dir) throws Exception {
    Process kubectl;
    try {
      kubectl = new ProcessBuilder("kubectl", "kustomize", dir.toString()).redirectErrorStream(true).start();
    } catch (IOException e) {
      Assumptions.abort("kubectl is not installed (install the Kubernetes client, e.g. Debian's kubernetes-client or"
          + " https://kubernetes.io/docs/tasks/tools/): " + e.getMessage());
      throw e;
    }
    String out = new String(kubectl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(kubectl.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(kubectl.exitValue()).as(out).isZero();
    List<HasMetadata> objects = new ArrayList<>();
    for (String doc : out.split("(?m)^---$")) {
      if (!doc.isBlank()) {
        objects.add(SERIALIZATION.unmarshal(doc, HasMetadata.class));
      }
    }
    return objects;
  }

  static <T extends HasMetadata> List<T> all(List<HasMetadata> objects, Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type, String name) {
    return all(objects, type).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name));
  }

  static Container container(PodSpec pod, String name) {
    return pod.getContainers().stream().filter(c -> c.getName().equals(name)).findFirst().orElseThrow();
  }

  static JsonNode gantryYaml(List<HasMetadata> objects) throws IOException {
    ConfigMap config = all(objects, ConfigMap.class).stream()
        .filter(c -> c.getMetadata().getName().startsWith("gantry-config")).findFirst().orElseThrow();
    return new YAMLMapper().readTree(config.getData().get("gantry.yaml"));
  }

  static int containerPort(Container c, IntOrString port) {
    if (port.getIntVal() != null) {
      return port.getIntVal();
    }
    return c.getPorts().stream().filter(p -> port.getStrVal().equals(p.getName())).findFirst()
        .orElseThrow(() -> new AssertionError(c.getName() + " has no port named " + port.getStrVal()))
        .getContainerPort();
  }

  static long sleepSeconds(Container c) {
    List<String> command = c.getLifecycle().getPreStop().getExec().getCommand();
    assertThat(command.get(0)).isEqualTo("sleep");
    return Long.parseLong(command.get(1));
  }

  static long bytes(Quantity q) {
    return Quantity.getAmountInBytes(q).longValue();
  }

  /**
   * The largest heap a container's JVM gets in bytes: its {@code JAVA_TOOL_OPTIONS}, then the image's
   * {@code jvm.options} argument file (the entry point's {@code @...jvm.options}, which comes later on the command
   * line and so wins), {@code -Xmx} over {@code -XX:MaxRAMPercentage} (the JVM's default: 25 %).
   */
  static double effectiveMaxHeap(Container c, long limitBytes) throws Exception {
    List<String> options = new java.util.ArrayList<>();
    c.getEnv().stream().filter(e -> e.getName().equals("JAVA_TOOL_OPTIONS")).findFirst()
        .ifPresent(e -> options.addAll(List.of(e.getValue().trim().split("\\s+"))));
    assertThat(options).as(c.getName() + ": a JVM that runs out of memory exits")
        .contains("-XX:+ExitOnOutOfMemoryError");
    Path jvmOptions = root().resolve(c.getName()).resolve("jvm.options");
    assertThat(jvmOptions).as(c.getName() + "'s image reads its module's jvm.options").exists();
    for (String line : java.nio.file.Files.readAllLines(jvmOptions)) {
      if (!line.isBlank() && !line.startsWith("#")) {
        options.add(line.trim());
      }
    }
    Double xmx = null;
    double percent = 25;
    for (String o : options) {
      Matcher x = Pattern.compile("-Xmx([0-9]+)([kmgKMG]?)").matcher(o);
      Matcher p = Pattern.compile("-XX:MaxRAMPercentage=([0-9.]+)").matcher(o);
      if (x.matches()) {
        long unit = switch (x.group(2).toLowerCase(java.util.Locale.ROOT)) {
          case "k" -> 1L << 10;
          case "m" -> 1L << 20;
          case "g" -> 1L << 30;
          default -> 1;
        };
        xmx = (double) Long.parseLong(x.group(1)) * unit;
      } else if (p.matches()) {
        percent = Double.parseDouble(p.group(1));
      }
    }
    return xmx != null ? xmx : limitBytes * percent / 100;
  }

  @ParameterizedTest
  @ValueSource(strings = {"dev", "prod", "gpu"})
  void everyOverlayRendersIntoTypedObjectsWhoseSelectorsMatch(String overlay) throws Exception {
    List<HasMetadata> objects = render(overlay);
    assertThat(objects).noneMatch(o -> o instanceof GenericKubernetesResource);
    Deployment d = one(objects, Deployment.class, "gantry");
    Map<String, String> podLabels = d.getSpec().getTemplate().getMetadata().getLabels();
    assertThat(podLabels).containsAllEntriesOf(d.getSpec().getSelector().getMatchLabels());
    for (Service s : all(objects, Service.class)) {
      assertThat(podLabels).as(s.getMetadata().getName()).containsAllEntriesOf(s.getSpec().getSelector());
      PodSpec pod = d.getSpec().getTemplate().getSpec();
      for (ServicePort p : s.getSpec().getPorts()) {
        // every Service port lands on a port the sidecar declares
        assertThat(containerPort(container(pod, "sidecar-proxy"), p.getTargetPort())).as(s.getMetadata().getName())
            .isPositive();
      }
    }
    for (PodDisruptionBudget pdb : all(objects, PodDisruptionBudget.class)) {
      assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
    }
    assertThat(d.getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo(one(objects, io.fabric8.kubernetes.api.model.ServiceAccount.class, "gantry").getMetadata()
            .getName());
    // the ConfigMap the pod mounts is the generated one (kustomize renames it with a hash)
    String mounted = d.getSpec().getTemplate().getSpec().getVolumes().stream()
        .filter(v -> v.getName().equals("config")).findFirst().orElseThrow().getConfigMap().getName();
    assertThat(all(objects, ConfigMap.class)).extracting(c -> c.getMetadata().getName()).contains(mounted);
  }

  /** The ConfigMap's gantry.yaml is a configuration both processes accept, as the pod's containers read it. */
  @ParameterizedTest
  @ValueSource(strings = {"dev", "prod", "gpu"})
  void bothProcessesAcceptTheConfigMapsFile(String overlay, @org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    ConfigMap config = all(render(overlay), ConfigMap.class).stream()
        .filter(c -> c.getMetadata().getName().startsWith("gantry-config")).findFirst().orElseThrow();
    Path file = dir.resolve("gantry.yaml");
    Files.writeString(file, config.getData().get("gantry.yaml"));
    RunnerOptions runner = RunnerOptions.parse(new String[] {"--config", file.toString()}, Map.of());
    assertThat(runner.host()).isEqualTo("127.0.0.1");
    assertThat(runner.metricsHost()).isEqualTo("0.0.0.0");
    assertThat(runner.modelRepository()).hasValue(Path.of("/models"));
    SidecarConfig sidecar = SidecarConfig.parse(new String[] {"--config", file.toString()}, Map.of());
    assertThat(sidecar.port()).isEqualTo(8080);
    assertThat(sidecar.runnerPort()).isEqualTo(runner.grpcPort());
  }

  @ParameterizedTest
  @ValueSource(strings = {"dev", "prod", "gpu"})
  void theRunnerCannotBeReachedFromOutsideThePod(String overlay) throws Exception {
    List<HasMetadata> objects = render(overlay);
    JsonNode config = gantryYaml(objects);
    assertThat(config.path("runner").path("host").asText()).isEqualTo("127.0.0.1");
    assertThat(config.path("sidecar").path("runner_host").asText()).isEqualTo("127.0.0.1");
    int grpc = config.path("runner").path("grpc_port").asInt();
    assertThat(config.path("sidecar").path("runner_port").asInt()).isEqualTo(grpc);
    Container runner = container(one(objects, Deployment.class, "gantry").getSpec().getTemplate().getSpec(),
        "model-runner");
    assertThat(runner.getPorts()).extracting(p -> p.getContainerPort()).doesNotContain(grpc)
        .containsExactly(config.path("runner").path("metrics_port").asInt());
    for (Service s : all(objects, Service.class)) {
      assertThat(s.getSpec().getPorts()).extracting(p -> p.getTargetPort().getStrVal())
          .doesNotContain("runner-metrics");
      assertThat(s.getSpec().getPorts()).extracting(ServicePort::getPort).doesNotContain(grpc);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"dev", "prod", "gpu"})
  void probesAskPathsAndPortsTheSidecarReallyServes(String overlay) throws Exception {
    List<HasMetadata> objects = render(overlay);
    JsonNode config = gantryYaml(objects);
    Container sidecar = container(one(objects, Deployment.class, "gantry").getSpec().getTemplate().getSpec(),
        "sidecar-proxy");
    List<Probe> probes = List.of(sidecar.getStartupProbe(), sidecar.getReadinessProbe(), sidecar.getLivenessProbe());
    for (Probe p : probes) {
      assertThat(containerPort(sidecar, p.getHttpGet().getPort())).isEqualTo(config.path("sidecar").path("port")
          .asInt());
    }
    assertThat(sidecar.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(sidecar.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/livez");
    // the startup probe waits long enough for models to load and warm up: minutes, not seconds
    Probe startup = sidecar.getStartupProbe();
    assertThat(startup.getPeriodSeconds() * startup.getFailureThreshold()).isGreaterThanOrEqualTo(300);
    // a real sidecar in front of a real runner answers those paths with the probes' meaning
    try (ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(root().resolve("examples/models"),
        "churn-onnx"))) {
      Sidecar s = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), null));
      try {
        Http http = new Http(s.port());
        for (Probe p : probes) {
          org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
              .until(() -> http.tryGet(p.getHttpGet().getPath()).status() == 200);
        }
        s.drain(1000);
        assertThat(http.tryGet("/readyz").status()).isNotEqualTo(200);
      } finally {
        s.close();
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"dev", "prod", "gpu"})
  void drainTimingsMatchWhatBothProcessesDoOnSigterm(String overlay) throws Exception {
    List<HasMetadata> objects = render(overlay);
    JsonNode config = gantryYaml(objects);
    PodSpec pod = one(objects, Deployment.class, "gantry").getSpec().getTemplate().getSpec();
    long sidecarPreStop = sleepSeconds(container(pod, "sidecar-proxy"));
    long runnerPreStop = sleepSeconds(container(pod, "model-runner"));
    long sidecarGrace = config.path("sidecar").path("shutdown_grace_ms").asLong() / 1000;
    long runnerGrace = config.path("runner").path("shutdown_grace_ms").asLong() / 1000;
    // endpoints are removed while the sidecar's preStop runs; it gets SIGTERM only after that
    assertThat(sidecarPreStop).isGreaterThanOrEqualTo(3);
    // the runner gets SIGTERM only once the sidecar can send it nothing new
    assertThat(runnerPreStop).isGreaterThanOrEqualTo(sidecarPreStop + sidecarGrace);
    // and both finish before SIGKILL
    assertThat((long) pod.getTerminationGracePeriodSeconds()).isGreaterThan(runnerPreStop + runnerGrace)
        .isGreaterThan(sidecarPreStop + sidecarGrace);
    Deployment d = one(objects, Deployment.class, "gantry");
    assertThat(d.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"dev", "prod", "gpu"})
  void heapsFitTheMemoryLimits(String overlay) throws Exception {
    PodSpec pod = one(render(overlay), Deployment.class, "gantry").getSpec().getTemplate().getSpec();
    for (Container c : pod.getContainers()) {
      Quantity limit = c.getResources().getLimits().get("memory");
      assertThat(limit).as(c.getName() + " memory limit").isNotNull();
      // memory is not overcommitted: what the scheduler reserves is what the container may use
      assertThat(bytes(c.getResources().getRequests().get("memory"))).isEqualTo(bytes(limit));
      double heap = effectiveMaxHeap(c, bytes(limit));
      // the heap leaves at least 256 MiB for metaspace, threads, and (in the runner) the engines' native tensors
      assertThat(bytes(limit) - heap).as(c.getName()).isGreaterThanOrEqualTo(256.0 * 1024 * 1024);
      assertThat(heap).as(c.getName()).isGreaterThanOrEqualTo(64.0 * 1024 * 1024);
    }
  }

  @org.junit.jupiter.api.Test
  void theOverlaysChangeWhatTheySay() throws Exception {
    Deployment dev = one(render("dev"), Deployment.class, "gantry");
    assertThat(dev.getSpec().getReplicas()).isEqualTo(1);
    assertThat(all(render("dev"), HorizontalPodAutoscaler.class)).isEmpty();
    assertThat(all(render("dev"), PodDisruptionBudget.class)).isEmpty();

    List<HasMetadata> prod = render("prod");
    HorizontalPodAutoscaler hpa = one(prod, HorizontalPodAutoscaler.class, "gantry");
    Deployment prodDeployment = one(prod, Deployment.class, "gantry");
    assertThat(hpa.getSpec().getScaleTargetRef().getKind()).isEqualTo("Deployment");
    assertThat(hpa.getSpec().getScaleTargetRef().getName()).isEqualTo(prodDeployment.getMetadata().getName());
    assertThat(hpa.getSpec().getMinReplicas()).isEqualTo(2);
    assertThat(hpa.getSpec().getMaxReplicas()).isEqualTo(10);
    assertThat(hpa.getSpec().getMetrics()).extracting(m -> m.getType()).containsExactly("Resource", "Pods", "Pods");
    assertThat(hpa.getSpec().getBehavior().getScaleDown().getStabilizationWindowSeconds()).isEqualTo(300);
    assertThat(hpa.getSpec().getBehavior().getScaleUp().getStabilizationWindowSeconds()).isZero();
    assertThat(prodDeployment.getSpec().getTemplate().getSpec().getAffinity().getPodAntiAffinity()).isNotNull();
    assertThat(one(prod, PodDisruptionBudget.class, "gantry").getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);

    PodSpec gpu = one(render("gpu"), Deployment.class, "gantry").getSpec().getTemplate().getSpec();
    Container runner = container(gpu, "model-runner");
    assertThat(runner.getResources().getLimits().get("nvidia.com/gpu")).isEqualTo(new Quantity("1"));
    assertThat(runner.getEnv()).anyMatch(e -> e.getName().equals("GANTRY_DEVICE") && e.getValue().equals("gpu"));
    assertThat(gpu.getTolerations()).anyMatch(t -> t.getKey().equals("nvidia.com/gpu"));
    assertThat(gpu.getNodeSelector()).isNotEmpty();
    assertThat(container(gpu, "sidecar-proxy").getResources().getLimits()).doesNotContainKey("nvidia.com/gpu");
  }

  @org.junit.jupiter.api.Test
  void hazelcastFindsItsMembersThroughTheHeadlessServiceAndRbacIsTheRolloutControllersOnly() throws Exception {
    List<HasMetadata> objects = render("prod");
    Service headless = one(objects, Service.class, "gantry-hazelcast");
    assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");
    assertThat(headless.getSpec().getPublishNotReadyAddresses()).isTrue();
    Container sidecar = container(one(objects, Deployment.class, "gantry").getSpec().getTemplate().getSpec(),
        "sidecar-proxy");
    String dns = sidecar.getEnv().stream().filter(e -> e.getName().equals("GANTRY_CLUSTER_KUBERNETES_DNS"))
        .findFirst().orElseThrow().getValue();
    assertThat(dns).startsWith(headless.getMetadata().getName() + ".");
    assertThat(sidecar.getEnv()).anyMatch(e -> e.getName().equals("GANTRY_CLUSTER_HOST")
        && e.getValue().equals("$(POD_IP)"));
    Role role = one(objects, Role.class, "gantry-rollouts");
    for (PolicyRule rule : role.getRules()) {
      assertThat(rule.getApiGroups()).containsExactly("networking.istio.io");
      assertThat(rule.getResources()).isSubsetOf("virtualservices", "destinationrules");
      assertThat(rule.getVerbs()).doesNotContain("*", "create", "delete", "deletecollection");
    }
    // the cluster and admin ports are open only to the namespace; the data port and /metrics to all
    io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy policy =
        one(objects, io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class, "gantry");
    for (var rule : policy.getSpec().getIngress()) {
      List<Integer> ports = rule.getPorts().stream().map(p -> p.getPort().getIntVal()).toList();
      if (ports.contains(5701) || ports.contains(8081)) {
        assertThat(rule.getFrom()).isNotEmpty().allMatch(f -> f.getPodSelector() != null
            && f.getNamespaceSelector() == null && f.getIpBlock() == null);
        assertThat(ports).doesNotContain(8080);
      }
    }
    Optional<HasMetadata> clusterWide = objects.stream().filter(o -> o.getKind().startsWith("Cluster")).findAny();
    assertThat(clusterWide).isEmpty();
  }
}
