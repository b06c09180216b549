package dev.gantry.sidecar.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The member configuration each way of joining gives (no member is started here; the cluster tests start them). */
class HazelcastConfigTest {

  @Test
  void aMemberListJoinsOverTcpIpOnlyAndEveryMapIsBackedUp() {
    Config config = HazelcastStateStore.config(new ClusterSettings(true, "prod-churn", "10.0.0.7", 5701,
        List.of("10.0.0.7:5701", "10.0.0.8:5701"), Optional.empty()));
    JoinConfig join = config.getNetworkConfig().getJoin();
    assertThat(config.getClusterName()).isEqualTo("prod-churn");
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getAutoDetectionConfig().isEnabled()).isFalse();
    assertThat(join.getKubernetesConfig().isEnabled()).isFalse();
    assertThat(join.getTcpIpConfig().isEnabled()).isTrue();
    assertThat(join.getTcpIpConfig().getMembers()).containsExactly("10.0.0.7:5701", "10.0.0.8:5701");
    assertThat(config.getNetworkConfig().getPublicAddress()).isEqualTo("10.0.0.7:5701");
    for (StateKind kind : StateKind.values()) {
      assertThat(config.getMapConfig(kind.mapName()).getBackupCount()).as(kind.mapName()).isGreaterThanOrEqualTo(1);
    }
  }

  @Test
  void aHeadlessServiceNameJoinsByKubernetesDns() {
    Config config = HazelcastStateStore.config(new ClusterSettings(true, "gantry", "10.1.2.3", 5701, List.of(),
        Optional.of("gantry-members.serving.svc.cluster.local")));
    JoinConfig join = config.getNetworkConfig().getJoin();
    assertThat(join.getTcpIpConfig().isEnabled()).isFalse();
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getKubernetesConfig().isEnabled()).isTrue();
    assertThat(join.getKubernetesConfig().getProperty("service-dns")).isEqualTo("gantry-members.serving.svc.cluster.local");
  }

  @Test
  void aMemberAloneListsOnlyItself() {
    Config config = HazelcastStateStore.config(new ClusterSettings(true, "gantry", "127.0.0.1", 5799, List.of(),
        Optional.empty()));
    assertThat(config.getNetworkConfig().getJoin().getTcpIpConfig().getMembers()).containsExactly("127.0.0.1:5799");
  }

  @Test
  void aMemberRunsFewThreadsAndCollectsNoMetricsOfItsOwn() {
    Config config = HazelcastStateStore.config(new ClusterSettings(true, "gantry", "127.0.0.1", 5799, List.of(),
        Optional.empty()));
    assertThat(config.getProperty("hazelcast.io.thread.count")).isEqualTo("1");
    assertThat(config.getProperty("hazelcast.operation.response.thread.count")).isEqualTo("1");
    assertThat(config.getProperty("hazelcast.metrics.enabled")).isEqualTo("false");
    assertThat(config.getProperty("hazelcast.health.monitoring.level")).isEqualTo("OFF");
  }
}
