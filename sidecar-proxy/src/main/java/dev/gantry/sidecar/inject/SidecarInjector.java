package dev.gantry.sidecar.inject;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Optional;
import java.util.Set;

/**
 * Decides whether a pod gets the Gantry sidecar and writes the JSON Patch that adds it. Pure: a pod (as the API
 * server sends it in an AdmissionReview) in, a patch or nothing out.
 *
 * <p>A pod is injected when its namespace is labelled {@value #NAMESPACE_LABEL}{@code : enabled} (the webhook's
 * namespace scope) unless it is annotated {@value #INJECT}{@code : "false"}, or anywhere when annotated
 * {@value #INJECT}{@code : "true"}. A pod that already has a container named {@value #CONTAINER} or the annotation
 * {@value #INJECTED} is left as it is. Annotations override the image ({@value #IMAGE}), resources ({@value #CPU},
 * {@value #MEMORY}), the ConfigMap holding {@code gantry.yaml} ({@value #CONFIG_MAP}) and the runner's port
 * ({@value #RUNNER_PORT}).
 */
public final class SidecarInjector {
  public static final String NAMESPACE_LABEL = "gantry.dev/injection";
  public static final String INJECT = "gantry.dev/inject";
  public static final String INJECTED = "gantry.dev/injected";
  public static final String IMAGE = "gantry.dev/sidecar-image";
  public static final String CPU = "gantry.dev/sidecar-cpu";
  public static final String MEMORY = "gantry.dev/sidecar-memory";
  public static final String CONFIG_MAP = "gantry.dev/config-map";
  public static final String RUNNER_PORT = "gantry.dev/runner-port";
  public static final String CONTAINER = "sidecar-proxy";
  static final String CONFIG_VOLUME = "gantry-sidecar-config";
  private static final Set<Integer> PORTS = Set.of(8080, 8081, 5701);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Which webhook of the MutatingWebhookConfiguration called: a labelled namespace's, or the per-pod one. */
  public enum Scope {
    /** The namespace is labelled {@value #NAMESPACE_LABEL}: every pod unless it opts out. */
    NAMESPACE,
    /** Any other namespace: only pods that opt in. */
    POD
  }

  /** Defaults of what is injected; annotations override each. */
  public record Defaults(String image, String cpu, String memory, Optional<String> configMap, int runnerPort,
      String clusterDns) {
    public Defaults {
      requireNonNull(image, "image");
      requireNonNull(cpu, "cpu");
      requireNonNull(memory, "memory");
      requireNonNull(configMap, "configMap");
      requireNonNull(clusterDns, "clusterDns");
    }
  }

  /** A pod that cannot take the sidecar as it is: the message says why and what to change. */
  public static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message);
    }
  }

  private final Defaults defaults;

  public SidecarInjector(Defaults defaults) {
    this.defaults = requireNonNull(defaults, "defaults");
  }

  /**
   * The JSON Patch that injects the sidecar, or empty when this pod is not to be injected (or already is).
   *
   * @throws Refused when the pod asks for the sidecar but cannot take it (a port already used, a bad annotation)
   */
  public Optional<ArrayNode> patch(JsonNode pod, Scope scope) {
    JsonNode annotations = pod.path("metadata").path("annotations");
    String inject = annotations.path(INJECT).asText("");
    boolean wanted = scope == Scope.NAMESPACE ? !inject.equalsIgnoreCase("false") : inject.equalsIgnoreCase("true");
    if (!wanted || annotations.path(INJECTED).asText("").equals("true") || hasContainer(pod, CONTAINER)) {
      return Optional.empty();
    }
    for (JsonNode c : pod.path("spec").path("containers")) {
      for (JsonNode p : c.path("ports")) {
        if (PORTS.contains(p.path("containerPort").asInt())) {
          throw new Refused("container '" + c.path("name").asText() + "' already uses port "
              + p.path("containerPort").asInt() + ", which the Gantry sidecar needs (8080 data, 8081 admin, 5701"
              + " cluster); move it, or annotate the pod " + INJECT + ": \"false\"");
        }
      }
    }
    int runnerPort = intAnnotation(annotations, RUNNER_PORT, defaults.runnerPort());
    Optional<String> configMap = annotations.hasNonNull(CONFIG_MAP)
        ? Optional.of(annotations.path(CONFIG_MAP).asText()) : defaults.configMap();
    ArrayNode patch = JSON.createArrayNode();
    if (!pod.path("metadata").path("annotations").isObject()) {
      patch.addObject().put("op", "add").put("path", "/metadata/annotations").set("value", JSON.createObjectNode());
    }
    patch.addObject().put("op", "add").put("path", "/metadata/annotations/" + escape(INJECTED)).put("value", "true");
    patch.addObject().put("op", "add").put("path", "/spec/containers/-")
        .set("value", container(annotations, runnerPort, configMap));
    if (configMap.isPresent()) {
      ObjectNode volume = JSON.createObjectNode().put("name", CONFIG_VOLUME);
      volume.putObject("configMap").put("name", configMap.get());
      if (pod.path("spec").path("volumes").isArray()) {
        patch.addObject().put("op", "add").put("path", "/spec/volumes/-").set("value", volume);
      } else {
        patch.addObject().put("op", "add").put("path", "/spec/volumes").set("value",
            JSON.createArrayNode().add(volume));
      }
    }
    return Optional.of(patch);
  }

  private ObjectNode container(JsonNode annotations, int runnerPort, Optional<String> configMap) {
    String memory = annotations.path(MEMORY).asText(defaults.memory());
    ObjectNode c = JSON.createObjectNode().put("name", CONTAINER).put("image", annotations.path(IMAGE)
        .asText(defaults.image()));
    if (configMap.isPresent()) {
      c.putArray("args").add("--config").add("/etc/gantry/gantry.yaml");
      c.putArray("volumeMounts").addObject().put("name", CONFIG_VOLUME).put("mountPath", "/etc/gantry")
          .put("readOnly", true);
    }
    ArrayNode env = c.putArray("env");
    env.addObject().put("name", "GANTRY_RUNNER_HOST").put("value", "127.0.0.1");
    env.addObject().put("name", "GANTRY_RUNNER_PORT").put("value", Integer.toString(runnerPort));
    env.addObject().put("name", "POD_IP").putObject("valueFrom").putObject("fieldRef")
        .put("fieldPath", "status.podIP");
    env.addObject().put("name", "POD_NAMESPACE").putObject("valueFrom").putObject("fieldRef")
        .put("fieldPath", "metadata.namespace");
    env.addObject().put("name", "GANTRY_CLUSTER_HOST").put("value", "$(POD_IP)");
    env.addObject().put("name", "GANTRY_CLUSTER_KUBERNETES_DNS").put("value", defaults.clusterDns());
    // the heap comes from the image's sidecar-proxy/jvm.options (-Xmx96m), which wins over a heap option set here
    env.addObject().put("name", "JAVA_TOOL_OPTIONS").put("value", "-XX:+ExitOnOutOfMemoryError");
    ArrayNode ports = c.putArray("ports");
    ports.addObject().put("name", "http").put("containerPort", 8080);
    ports.addObject().put("name", "admin").put("containerPort", 8081);
    ports.addObject().put("name", "hazelcast").put("containerPort", 5701);
    c.set("startupProbe", probe("/readyz", 5, 120));
    c.set("readinessProbe", probe("/readyz", 5, 2));
    c.set("livenessProbe", probe("/livez", 10, 3));
    c.putObject("lifecycle").putObject("preStop").putObject("exec").putArray("command").add("sleep").add("5");
    ObjectNode resources = c.putObject("resources");
    resources.putObject("requests").put("cpu", annotations.path(CPU).asText(defaults.cpu())).put("memory", memory);
    resources.putObject("limits").put("memory", memory);
    ObjectNode security = c.putObject("securityContext").put("allowPrivilegeEscalation", false)
        .put("readOnlyRootFilesystem", true).put("runAsNonRoot", true).put("runAsUser", 10001);
    security.putObject("capabilities").putArray("drop").add("ALL");
    return c;
  }

  private static ObjectNode probe(String path, int period, int failures) {
    ObjectNode p = JSON.createObjectNode();
    p.putObject("httpGet").put("path", path).put("port", "http");
    return p.put("periodSeconds", period).put("timeoutSeconds", 2).put("failureThreshold", failures);
  }

  private static boolean hasContainer(JsonNode pod, String name) {
    for (JsonNode c : pod.path("spec").path("containers")) {
      if (name.equals(c.path("name").asText())) {
        return true;
      }
    }
    return false;
  }

  private static int intAnnotation(JsonNode annotations, String key, int fallback) {
    if (!annotations.hasNonNull(key)) {
      return fallback;
    }
    String v = annotations.path(key).asText();
    try {
      int port = Integer.parseInt(v.trim());
      if (port >= 1 && port <= 65535) {
        return port;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new Refused("annotation " + key + " is '" + v + "'; it must be a port number from 1 to 65535");
  }

  /** A key as one JSON Pointer segment (RFC 6901): {@code ~} and {@code /} escaped. */
  static String escape(String key) {
    return key.replace("~", "~0").replace("/", "~1");
  }
}
