package dev.gantry.sidecar.rollout.istio;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.rollout.RolloutSpec;
import dev.gantry.sidecar.rollout.TrafficSplit;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * A rollout's weights on an Istio VirtualService ({@link IstioTrafficSplit}), set on a worker thread. The Kubernetes
 * client is made on first use (from the pod's ServiceAccount), so sidecars without Istio rollouts never make one. The
 * weight last set for each rollout is remembered, so a leader's every tick does not cost an API call; a new leader
 * sets it once more.
 */
public final class IstioSplit implements TrafficSplit {
  private final Vertx vertx;
  private final Supplier<KubernetesClient> clients;
  private volatile KubernetesClient client;
  private final Map<String, Integer> applied = new ConcurrentHashMap<>();

  public IstioSplit(Vertx vertx, Supplier<KubernetesClient> clients) {
    this.vertx = requireNonNull(vertx, "vertx");
    this.clients = requireNonNull(clients, "clients");
  }

  @Override
  public Future<Void> set(RolloutSpec spec, int canaryWeight) {
    String key = spec.name() + "\0" + spec.istio();
    Integer last = applied.get(key);
    if (last != null && last == canaryWeight) {
      return Future.succeededFuture();
    }
    return vertx.executeBlocking(() -> {
      new IstioTrafficSplit(client(), spec.istio()).apply(canaryWeight);
      applied.put(key, canaryWeight);
      return null;
    }, false);
  }

  private synchronized KubernetesClient client() {
    if (client == null) {
      client = clients.get();
    }
    return client;
  }

  /** Closes the client, if one was made. */
  public synchronized void close() {
    if (client != null) {
      client.close();
    }
  }
}
