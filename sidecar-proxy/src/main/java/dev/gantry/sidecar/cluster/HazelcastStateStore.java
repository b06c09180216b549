package dev.gantry.sidecar.cluster;

import static java.util.Objects.requireNonNull;

import com.hazelcast.cluster.Member;
import com.hazelcast.config.Config;
import com.hazelcast.config.InMemoryFormat;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MergePolicyConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.map.IMap;
import com.hazelcast.map.MapEvent;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryEvictedListener;
import com.hazelcast.map.listener.EntryExpiredListener;
import com.hazelcast.map.listener.EntryMergedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import com.hazelcast.map.listener.MapClearedListener;
import com.hazelcast.spi.merge.LatestUpdateMergePolicy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster state in an embedded Hazelcast member: one {@link IMap} per {@link StateKind}, each entry backed up
 * synchronously on one other member, so a member that dies (even by SIGKILL) loses nothing while one other survives.
 *
 * <p>Members find each other over TCP/IP by a list of addresses, or by the DNS name of a Kubernetes headless
 * Service; multicast and auto-detection are off, and the cluster name keeps Deployments apart. After a network split
 * the halves merge back with the most recently updated entry winning, and every listener hears the merged state.
 *
 * <p>Only IMap operations, entry listeners and the member list are used: all open source in every Hazelcast 5.x,
 * none of the Enterprise-only CP Subsystem.
 */
public final class HazelcastStateStore implements StateStore {
  private static final Logger LOG = LoggerFactory.getLogger(HazelcastStateStore.class);

  private final HazelcastInstance hz;
  private final List<Runnable> onMerged = new java.util.concurrent.CopyOnWriteArrayList<>();

  private HazelcastStateStore(HazelcastInstance hz) {
    this.hz = hz;
    hz.getCluster().addMembershipListener(new com.hazelcast.cluster.MembershipListener() {
      @Override
      public void memberAdded(com.hazelcast.cluster.MembershipEvent e) {
        LOG.info("event=cluster_member_added member={} members={}", address(e.getMember()), members());
      }

      @Override
      public void memberRemoved(com.hazelcast.cluster.MembershipEvent e) {
        LOG.warn("event=cluster_member_removed member={} members={}", address(e.getMember()), members());
      }
    });
    hz.getLifecycleService().addLifecycleListener(event -> {
      if (event.getState() == LifecycleEvent.LifecycleState.MERGED) {
        LOG.info("event=cluster_merged members={}", members());
        onMerged.forEach(Runnable::run);
      }
    });
  }

  /** Starts a member and joins its cluster (or forms one alone); returns once it has. */
  public static HazelcastStateStore start(ClusterSettings settings) {
    requireNonNull(settings, "settings");
    HazelcastStateStore store = new HazelcastStateStore(Hazelcast.newHazelcastInstance(config(settings)));
    LOG.info("event=cluster_joined name={} self={} members={}", settings.name(), store.self(), store.members());
    return store;
  }

  /**
   * Hazelcast's thread pools and monitors sized for a sidecar's member, which holds a few small maps: its defaults
   * (3 + 3 I/O threads, 2 generic and 2 response threads, a metrics collector with 2 threads, a health monitor and a
   * slow-operation detector) are a data grid's. Fewer threads and no metrics collection took 6-9 MB off the sidecar's
   * RSS under load (perf/RESULTS.md, "Sidecar memory: this session"). The 5 event threads stay: with one, entry
   * events reached the local snapshots later, and an alias rollout was once validated against an endpoint snapshot
   * that did not have its canary variant yet. A system property of the same name
   * ({@code -Dhazelcast.io.thread.count=3}) still wins.
   */
  static final Map<String, String> SMALL_MEMBER = Map.of(
      "hazelcast.io.thread.count", "1",
      "hazelcast.operation.generic.thread.count", "1",
      "hazelcast.operation.response.thread.count", "1",
      // nothing reads the member's own metrics: Gantry exports its own, and no Management Center is used
      "hazelcast.metrics.enabled", "false",
      "hazelcast.health.monitoring.level", "OFF",
      "hazelcast.slow.operation.detector.enabled", "false");

  static Config config(ClusterSettings settings) {
    Config config = new Config();
    SMALL_MEMBER.forEach((name, value) -> {
      if (System.getProperty(name) == null) {
        config.setProperty(name, value);
      }
    });
    config.setClusterName(settings.name());
    config.setInstanceName("gantry-" + settings.host() + "-" + settings.port());
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    // the sidecar shuts its member down itself, after draining
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    config.setProperty("hazelcast.local.localAddress", settings.host());
    // a small cluster of sidecars: join and notice a dead member in seconds, not Hazelcast's minutes
    config.setProperty("hazelcast.wait.seconds.before.join", "1");
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", "10");
    config.setProperty("hazelcast.merge.first.run.delay.seconds", "10");
    config.setProperty("hazelcast.merge.next.run.delay.seconds", "10");
    config.setProperty("hazelcast.graceful.shutdown.max.wait", "20");
    config.getJetConfig().setEnabled(false);
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(settings.port()).setPortAutoIncrement(false);
    network.setPublicAddress(settings.host() + ":" + settings.port());
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    if (settings.kubernetesDns().isPresent()) {
      join.getTcpIpConfig().setEnabled(false);
      join.getKubernetesConfig().setEnabled(true)
          .setProperty("service-dns", settings.kubernetesDns().get())
          .setProperty("service-port", String.valueOf(settings.port()));
    } else {
      List<String> members = new ArrayList<>(settings.members());
      if (members.isEmpty()) {
        members.add(settings.host() + ":" + settings.port());
      }
      join.getTcpIpConfig().setEnabled(true).setMembers(members).setConnectionTimeoutSeconds(2);
    }
    config.addMapConfig(new MapConfig("gantry.*")
        .setBackupCount(1)
        .setAsyncBackupCount(0)
        .setInMemoryFormat(InMemoryFormat.BINARY)
        .setPerEntryStatsEnabled(true)
        .setMergePolicyConfig(new MergePolicyConfig(LatestUpdateMergePolicy.class.getName(), 100)));
    // a side of a split brain smaller than the quorum cannot write rollout state (leases, status), so it cannot
    // advance a rollout; it may still read it (split-brain protection is open source in every Hazelcast 5.x)
    config.addSplitBrainProtectionConfig(new com.hazelcast.config.SplitBrainProtectionConfig("gantry-rollouts", true,
        settings.effectiveQuorum()).setProtectOn(com.hazelcast.splitbrainprotection.SplitBrainProtectionOn.WRITE));
    for (StateKind k : List.of(StateKind.ROLLOUT_STATUS, StateKind.ROLLOUT_LEASES)) {
      config.addMapConfig(new MapConfig(k.mapName())
          .setBackupCount(1)
          .setAsyncBackupCount(0)
          .setInMemoryFormat(InMemoryFormat.BINARY)
          .setPerEntryStatsEnabled(true)
          .setSplitBrainProtectionName("gantry-rollouts")
          .setMergePolicyConfig(new MergePolicyConfig(LatestUpdateMergePolicy.class.getName(), 100)));
    }
    // the feedback index is bounded: one entry per request to an experiment, for its feedback window
    config.addMapConfig(new MapConfig(StateKind.FEEDBACK.mapName())
        .setBackupCount(1)
        .setInMemoryFormat(InMemoryFormat.BINARY)
        .setEvictionConfig(new com.hazelcast.config.EvictionConfig()
            .setEvictionPolicy(com.hazelcast.config.EvictionPolicy.LRU)
            .setMaxSizePolicy(com.hazelcast.config.MaxSizePolicy.PER_NODE)
            .setSize(1_000_000)));
    return config;
  }

  private IMap<String, String> map(StateKind kind) {
    return hz.getMap(kind.mapName());
  }

  @Override
  public Optional<String> get(StateKind kind, String name) {
    return Optional.ofNullable(map(kind).get(name));
  }

  @Override
  public Map<String, String> all(StateKind kind) {
    return Map.copyOf(new HashMap<>(map(kind)));
  }

  @Override
  public boolean compareAndSet(StateKind kind, String name, Optional<String> expected, String document) {
    requireNonNull(document, "document");
    IMap<String, String> map = map(kind);
    return expected.isEmpty() ? map.putIfAbsent(name, document) == null : map.replace(name, expected.get(), document);
  }

  @Override
  public void put(StateKind kind, String name, String document) {
    map(kind).set(name, document);
  }

  @Override
  public void putExpiring(StateKind kind, String name, String document, long ttlSeconds) {
    map(kind).setAsync(name, document, ttlSeconds, java.util.concurrent.TimeUnit.SECONDS);
  }

  @Override
  public boolean compareAndDelete(StateKind kind, String name, String expected) {
    return map(kind).remove(name, expected);
  }

  @Override
  public void listen(StateKind kind, StateListener listener) {
    IMap<String, String> map = map(kind);
    Feed feed = new Feed(listener);
    map.addEntryListener(feed, true);
    onMerged.add(() -> feed.reset(new HashMap<>(map)));
    feed.start(new HashMap<>(map));
  }

  @Override
  public String self() {
    return address(hz.getCluster().getLocalMember());
  }

  @Override
  public List<String> members() {
    return hz.getCluster().getMembers().stream().map(HazelcastStateStore::address).toList();
  }

  private static String address(Member m) {
    return m.getAddress().getHost() + ":" + m.getAddress().getPort();
  }

  @Override
  public void close() {
    if (hz.getLifecycleService().isRunning()) {
      hz.shutdown();
    }
  }

  /**
   * Entry events to one listener, one at a time. Events that come before the first full read are held and replayed
   * after it: events for one entry come in the order its changes were made, so the last one applied is its latest.
   */
  private static final class Feed implements EntryAddedListener<String, String>, EntryUpdatedListener<String, String>,
      EntryRemovedListener<String, String>, EntryEvictedListener<String, String>,
      EntryExpiredListener<String, String>, EntryMergedListener<String, String>, MapClearedListener {
    private final StateListener listener;
    private List<Runnable> held = new ArrayList<>();

    Feed(StateListener listener) {
      this.listener = listener;
    }

    synchronized void start(Map<String, String> all) {
      listener.reset(all);
      held.forEach(Runnable::run);
      held = null;
    }

    synchronized void reset(Map<String, String> all) {
      if (held == null) {
        listener.reset(all);
      }
    }

    private synchronized void deliver(Runnable event) {
      if (held != null) {
        held.add(event);
      } else {
        event.run();
      }
    }

    @Override
    public void entryAdded(EntryEvent<String, String> e) {
      deliver(() -> listener.put(e.getKey(), e.getValue()));
    }

    @Override
    public void entryUpdated(EntryEvent<String, String> e) {
      deliver(() -> listener.put(e.getKey(), e.getValue()));
    }

    @Override
    public void entryMerged(EntryEvent<String, String> e) {
      deliver(() -> {
        if (e.getValue() != null) {
          listener.put(e.getKey(), e.getValue());
        }
      });
    }

    @Override
    public void entryRemoved(EntryEvent<String, String> e) {
      deliver(() -> listener.remove(e.getKey()));
    }

    @Override
    public void entryEvicted(EntryEvent<String, String> e) {
      deliver(() -> listener.remove(e.getKey()));
    }

    @Override
    public void entryExpired(EntryEvent<String, String> e) {
      deliver(() -> listener.remove(e.getKey()));
    }

    @Override
    public void mapCleared(MapEvent event) {
      deliver(() -> listener.reset(Map.of()));
    }
  }
}
