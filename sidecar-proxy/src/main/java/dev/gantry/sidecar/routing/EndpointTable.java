package dev.gantry.sidecar.routing;

import dev.gantry.sidecar.cluster.StateListener;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This sidecar's immutable snapshot of the endpoints in cluster state, kept current by the store's listener. The
 * request path reads {@link #snapshot()} (one volatile read) and never waits on the cluster.
 */
public final class EndpointTable implements StateListener {
  private static final Logger LOG = LoggerFactory.getLogger(EndpointTable.class);

  /**
   * One consistent view: the records, the endpoints built from them, and a router over those endpoints.
   */
  public record Snapshot(Map<String, EndpointRecord> records, Map<String, Endpoint> endpoints, Router router) {
    static final Snapshot EMPTY = new Snapshot(Map.of(), Map.of(), new Router(Map.of()));

    /** Whether a model name is an endpoint. */
    public boolean isEndpoint(String name) {
      return endpoints.containsKey(name);
    }

    /** The endpoint of this name, if there is one. */
    public Optional<Endpoint> endpoint(String name) {
      return Optional.ofNullable(endpoints.get(name));
    }
  }

  private volatile Snapshot snapshot = Snapshot.EMPTY;

  public Snapshot snapshot() {
    return snapshot;
  }

  @Override
  public synchronized void reset(Map<String, String> all) {
    Map<String, EndpointRecord> records = new HashMap<>();
    all.forEach((name, json) -> read(name, json).ifPresent(r -> records.put(name, r)));
    publish(records);
    LOG.info("event=endpoints_loaded count={} names={}", records.size(), records.keySet());
  }

  @Override
  public synchronized void put(String name, String document) {
    Optional<EndpointRecord> record = read(name, document);
    if (record.isEmpty()) {
      return;
    }
    Map<String, EndpointRecord> records = new HashMap<>(snapshot.records());
    records.put(name, record.get());
    publish(records);
    LOG.debug("event=endpoint_seen name={} revision={}", name, record.get().revision());
  }

  @Override
  public synchronized void remove(String name) {
    Map<String, EndpointRecord> records = new HashMap<>(snapshot.records());
    if (records.remove(name) != null) {
      publish(records);
    }
  }

  private void publish(Map<String, EndpointRecord> records) {
    Map<String, Endpoint> endpoints = new HashMap<>();
    records.forEach((name, r) -> endpoints.put(name, r.endpoint()));
    snapshot = new Snapshot(Map.copyOf(records), Map.copyOf(endpoints), new Router(endpoints));
  }

  /** A stored document as a record; one that cannot be read is logged and left out, never served half-read. */
  private static Optional<EndpointRecord> read(String name, String json) {
    try {
      EndpointRecord record = EndpointRecord.fromJson(json);
      if (!name.equals(record.spec().name())) {
        throw new IllegalArgumentException("it is filed under '" + name + "' but names '" + record.spec().name() + "'");
      }
      record.endpoint();
      return Optional.of(record);
    } catch (RuntimeException e) {
      LOG.error("event=endpoint_unreadable name={} reason=\"{}\"", name, e.getMessage());
      return Optional.empty();
    }
  }
}
