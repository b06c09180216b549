package dev.gantry.sidecar.rollout.istio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.SidecarException;
import dev.gantry.sidecar.core.SpecReader;
import dev.gantry.sidecar.routing.SpecProblem;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRouteDestination;
import io.fabric8.istio.api.networking.v1.VirtualService;
import io.fabric8.istio.client.IstioClient;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The split against fabric8's mock Kubernetes API server in CRUD mode, which keeps what it is sent, bumps
 * {@code resourceVersion} on each write and answers a write with a stale one 409 Conflict, as the real API server
 * does. A real API server with Istio's CRDs cannot run here; the mock stands in for it.
 */
@EnableKubernetesMockClient(crud = true)
class IstioTrafficSplitTest {
  static final String NAMESPACE = "models";
  static final String VS_PATH = "/apis/networking.istio.io/v1/namespaces/models/virtualservices/churn";

  /** Two routes: a pinned one with the canary only, then the one a rollout splits, with fields that must stay. */
  static final String CHURN = """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata:
        name: churn
        namespace: models
        labels: {app: churn}
        annotations: {owner: ml-platform}
      spec:
        hosts: [churn]
        gateways: [mesh]
        http:
          - name: pinned
            match:
              - headers:
                  x-gantry-variant: {exact: canary}
            route:
              - destination: {host: churn, subset: canary}
          - name: primary
            timeout: 5s
            retries: {attempts: 2, perTryTimeout: 2s, retryOn: "5xx"}
            route:
              - destination: {host: churn.models.svc.cluster.local, subset: stable, port: {number: 8080}}
                weight: 100
                headers:
                  response:
                    set: {x-served-by: stable}
              - destination: {host: churn.models.svc.cluster.local, subset: canary, port: {number: 8080}}
                weight: 0
      """;

  KubernetesMockServer server;
  KubernetesClient client;

  Resource<VirtualService> churn() {
    return client.adapt(IstioClient.class).v1().virtualServices().inNamespace(NAMESPACE).withName("churn");
  }

  IstioSplitSpec spec() {
    return new IstioSplitSpec(NAMESPACE, "churn", null, null, "stable", "canary");
  }

  IstioTrafficSplit split(IstioSplitSpec spec) {
    return new IstioTrafficSplit(client, spec, 3, Duration.ofMillis(10));
  }

  /** The primary route's stable and canary weights as stored. */
  List<Integer> storedWeights() {
    return churn().get().getSpec().getHttp().get(1).getRoute().stream().map(HTTPRouteDestination::getWeight).toList();
  }

  @BeforeEach
  void createVirtualService() {
    VirtualService vs = client.getKubernetesSerialization().unmarshal(CHURN, VirtualService.class);
    client.adapt(IstioClient.class).v1().virtualServices().inNamespace(NAMESPACE).resource(vs).create();
  }

  @Test
  void weightsFollowTheRolloutStepsAndReadBack() {
    IstioTrafficSplit split = split(spec());
    assertThat(split.canaryWeight()).isZero();
    for (int weight : new int[] {5, 10, 25, 50, 100}) {
      split.apply(weight);
      assertThat(split.canaryWeight()).as("canary weight at step %d", weight).isEqualTo(weight);
      assertThat(storedWeights()).as("stored stable, canary at step %d", weight).containsExactly(100 - weight, weight);
    }
  }

  @Test
  void rollbackGivesTheStableSubsetAllTrafficAgain() {
    IstioTrafficSplit split = split(spec());
    split.apply(25);
    split.apply(0);
    assertThat(storedWeights()).containsExactly(100, 0);
    assertThat(split.canaryWeight()).isZero();
  }

  @Test
  void touchesOnlyTheTwoWeights() {
    VirtualService before = churn().get();
    split(spec()).apply(25);
    VirtualService after = churn().get();

    assertThat(after.getMetadata().getResourceVersion()).isNotEqualTo(before.getMetadata().getResourceVersion());
    List<HTTPRouteDestination> split = after.getSpec().getHttp().get(1).getRoute();
    assertThat(split).extracting(HTTPRouteDestination::getWeight).containsExactly(75, 25);
    split.get(0).setWeight(100);
    split.get(1).setWeight(0);
    assertThat(after.getSpec()).isEqualTo(before.getSpec());
    assertThat(after.getMetadata().getLabels()).isEqualTo(Map.of("app", "churn"));
    assertThat(after.getMetadata().getAnnotations()).isEqualTo(Map.of("owner", "ml-platform"));
    assertThat(after.getSpec().getHttp().get(0).getRoute().get(0).getWeight()).as("the pinned route").isNull();
  }

  @Test
  void splitsTheNamedRouteAndMatchesAShortHostToItsFullName() {
    IstioTrafficSplit split = split(new IstioSplitSpec(NAMESPACE, "churn", "primary", "churn", "stable", "canary"));
    split.apply(10);
    assertThat(storedWeights()).containsExactly(90, 10);
  }

  @Test
  void aMissingVirtualServiceIsNotFoundByName() {
    IstioTrafficSplit split = split(new IstioSplitSpec(NAMESPACE, "fraud", null, null, "stable", "canary"));
    assertThatThrownBy(() -> split.apply(5)).isInstanceOfSatisfying(SidecarException.class,
        e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND))
        .hasMessageContaining("VirtualService models/fraud does not exist");
    assertThatThrownBy(split::canaryWeight).hasMessageContaining("models/fraud");
  }

  @Test
  void aMissingSubsetIsNotFoundByNameAndNothingIsWritten() {
    IstioTrafficSplit split = split(new IstioSplitSpec(NAMESPACE, "churn", "primary", null, "stable", "canary-v3"));
    assertThatThrownBy(() -> split.apply(5)).isInstanceOfSatisfying(SidecarException.class,
        e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND))
        .hasMessageContaining("http route 'primary' of VirtualService models/churn has no destination with subset"
            + " 'canary-v3'");
    assertThat(storedWeights()).containsExactly(100, 0);
  }

  @Test
  void aMissingRouteIsNotFoundWithTheRoutesThereAre() {
    IstioTrafficSplit named = split(new IstioSplitSpec(NAMESPACE, "churn", "main", null, "stable", "canary"));
    assertThatThrownBy(() -> named.apply(5))
        .hasMessageContaining("VirtualService models/churn has no http route named 'main'; its http routes: [pinned,"
            + " primary]");
    IstioTrafficSplit otherHost = split(new IstioSplitSpec(NAMESPACE, "churn", null, "fraud", "stable", "canary"));
    assertThatThrownBy(otherHost::canaryWeight)
        .hasMessageContaining("no http route with a destination for subset 'stable' and one for subset 'canary' and"
            + " host 'fraud'");
  }

  @Test
  void aWriteBetweenOurReadAndOurWriteIsRetriedAndKept() throws InterruptedException {
    // What we read first: the VirtualService as it was before another writer's change below.
    VirtualService stale = churn().get();
    churn().edit(vs -> {
      vs.getSpec().getHttp().get(1).setTimeout("7s");
      return vs;
    });
    server.expect().get().withPath(VS_PATH).andReturn(200, stale).once();
    drainRequests();

    split(spec()).apply(25);

    assertThat(drainRequests()).as("409 on the first write, then read again").containsExactly("GET", "PUT", "GET",
        "PUT");
    VirtualService now = churn().get();
    assertThat(storedWeights()).containsExactly(75, 25);
    assertThat(now.getSpec().getHttp().get(1).getTimeout()).as("the other writer's change").isEqualTo("7s");
  }

  @Test
  void givesUpWhenEveryTryConflicts() throws InterruptedException {
    VirtualService stale = churn().get();
    churn().edit(vs -> {
      vs.getSpec().getHttp().get(1).setTimeout("7s");
      return vs;
    });
    server.expect().get().withPath(VS_PATH).andReturn(200, stale).always();
    drainRequests();

    assertThatThrownBy(() -> split(spec()).apply(25)).isInstanceOfSatisfying(SidecarException.class,
        e -> assertThat(e.kind()).isEqualTo(ErrorKind.UNAVAILABLE))
        .hasMessageContaining("VirtualService models/churn was changed by another writer between our read and our"
            + " write 3 times in a row");
    assertThat(drainRequests()).containsExactly("GET", "PUT", "GET", "PUT", "GET", "PUT");
    server.clearExpectations();
    assertThat(storedWeights()).containsExactly(100, 0);
  }

  @Test
  void aSplitAlreadyInPlaceIsNotWrittenAgain() throws InterruptedException {
    IstioTrafficSplit split = split(spec());
    split.apply(50);
    drainRequests();
    split.apply(50);
    assertThat(drainRequests()).containsExactly("GET");
  }

  @Test
  void theNamespaceDefaultsToTheClients() {
    IstioTrafficSplit split = new IstioTrafficSplit(client, IstioSplitSpec.of("churn", "stable", "canary"));
    assertThat(split.namespace()).isEqualTo(client.getNamespace());
    assertThatThrownBy(() -> split.apply(5)).hasMessageContaining("VirtualService " + client.getNamespace()
        + "/churn does not exist");
  }

  @Test
  void theExampleManifestIsSplitByTheReadmesIstioSection() throws IOException {
    churn().delete();
    VirtualService example = client.getKubernetesSerialization().unmarshal(
        Files.readString(Path.of("..", "istio", "virtualservice.yaml")), VirtualService.class);
    client.adapt(IstioClient.class).v1().virtualServices().resource(example).create();
    IstioSplitSpec spec = new SpecReader<>(IstioSplitSpec.class, "istio").yaml("""
        virtual_service: churn
        namespace: models
        route: primary
        host: churn
        stable_subset: stable
        canary_subset: canary
        """);
    IstioTrafficSplit split = split(spec);
    assertThat(split.canaryWeight()).isZero();
    split.apply(5);
    assertThat(churn().get().getSpec().getHttp().get(0).getRoute()).extracting(HTTPRouteDestination::getWeight)
        .containsExactly(95, 5);
  }

  @Test
  void readsTheRolloutsIstioSectionWithSnakeCaseKeys() {
    IstioSplitSpec spec = new SpecReader<>(IstioSplitSpec.class, "istio").yaml("""
        virtual_service: churn
        namespace: models
        route: primary
        stable_subset: stable
        canary_subset: canary
        """);
    assertThat(spec).isEqualTo(new IstioSplitSpec("models", "churn", "primary", null, "stable", "canary"));
    assertThat(spec.problems()).isEmpty();
  }

  @Test
  void problemsNameTheFieldAndTheFix() {
    assertThat(new IstioSplitSpec("Models", null, null, null, "stable", "stable").problems())
        .extracting(SpecProblem::path)
        .containsExactly("namespace", "virtual_service", "canary_subset");
    assertThat(new IstioSplitSpec(null, "churn", null, null, null, " ").problems())
        .extracting(SpecProblem::toString)
        .containsExactly(
            "stable_subset: is required: the DestinationRule subset of the stable version, as the route's destination"
                + " names it",
            "canary_subset: is required: the DestinationRule subset of the canary version, as the route's destination"
                + " names it");
    assertThatThrownBy(() -> new IstioTrafficSplit(client, new IstioSplitSpec(null, "Churn!", null, null, "a", "b")))
        .isInstanceOfSatisfying(SidecarException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT))
        .hasMessageStartingWith("istio: virtual_service: must be a Kubernetes object name");
  }

  /** The methods of the requests the server got since the last call, oldest first. */
  List<String> drainRequests() throws InterruptedException {
    List<String> methods = new ArrayList<>();
    RecordedRequest r;
    while ((r = server.takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
      methods.add(r.getMethod());
    }
    return methods;
  }
}
