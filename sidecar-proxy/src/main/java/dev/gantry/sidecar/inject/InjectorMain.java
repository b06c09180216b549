package dev.gantry.sidecar.inject;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Entry point of the sidecar injector (a mutating admission webhook), in the sidecar's jar:
 * {@code java -cp sidecar-proxy.jar dev.gantry.sidecar.inject.InjectorMain --tls-cert … --tls-key …}.
 */
@Command(name = "gantry-injector", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Mutating admission webhook that adds the Gantry sidecar to pods (see k8s/injection).")
public final class InjectorMain implements Callable<Integer> {
  @Option(names = "--host", defaultValue = "${env:GANTRY_INJECTOR_HOST:-0.0.0.0}", description = "address")
  String host;

  @Option(names = "--port", defaultValue = "${env:GANTRY_INJECTOR_PORT:-8443}", description = "HTTPS port")
  int port;

  @Option(names = "--tls-cert", required = true, defaultValue = "${env:GANTRY_INJECTOR_TLS_CERT:-/certs/tls.crt}",
      description = "PEM certificate chain the API server checks (the webhook Service's DNS name)")
  Path certificate;

  @Option(names = "--tls-key", required = true, defaultValue = "${env:GANTRY_INJECTOR_TLS_KEY:-/certs/tls.key}",
      description = "its PEM private key (PKCS#8 or PKCS#1)")
  Path key;

  @Option(names = "--sidecar-image", defaultValue = "${env:GANTRY_SIDECAR_IMAGE:-gantry/sidecar-proxy:0.1.0}",
      description = "image of the injected sidecar (annotation gantry.dev/sidecar-image overrides)")
  String image;

  @Option(names = "--sidecar-cpu", defaultValue = "500m", description = "CPU request (gantry.dev/sidecar-cpu)")
  String cpu;

  @Option(names = "--sidecar-memory", defaultValue = "512Mi",
      description = "memory request and limit (gantry.dev/sidecar-memory)")
  String memory;

  @Option(names = "--config-map", defaultValue = "${env:GANTRY_SIDECAR_CONFIG_MAP:-}",
      description = "ConfigMap with gantry.yaml mounted into the sidecar (gantry.dev/config-map); none by default")
  String configMap;

  @Option(names = "--runner-port", defaultValue = "8001", description = "the runner's port in the pod"
      + " (gantry.dev/runner-port)")
  int runnerPort;

  @Option(names = "--cluster-dns", defaultValue = "gantry-hazelcast.$(POD_NAMESPACE).svc.cluster.local",
      description = "headless Service the sidecars' Hazelcast members find each other through")
  String clusterDns;

  public static void main(String[] args) {
    System.exit(new CommandLine(new InjectorMain()).execute(args));
  }

  @Override
  public Integer call() throws InterruptedException {
    SidecarInjector injector = new SidecarInjector(new SidecarInjector.Defaults(image, cpu, memory,
        configMap.isBlank() ? Optional.empty() : Optional.of(configMap), runnerPort, clusterDns));
    InjectorServer server = InjectorServer.start(injector, host, port, certificate, key);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      stopped.countDown();
    }, "gantry-injector-stop"));
    stopped.await();
    return 0;
  }
}
