package dev.gantry.sidecar.runner;

import static java.util.Objects.requireNonNull;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The places requests can be forwarded to: the pod's own runner, and remote upstreams ({@code host:port} of another
 * Gantry sidecar or runner, both of which speak Open Inference gRPC), each with its own connections and metadata.
 * A remote link is made the first time a variant names it; making one opens no connection.
 */
public final class Upstreams {
  /** One upstream: its connection, its model metadata, and whether it is the pod's own runner. */
  public record Link(String name, RunnerConnection connection, ModelCatalog catalog, boolean local) {
    public Link {
      requireNonNull(name, "name");
      requireNonNull(connection, "connection");
      requireNonNull(catalog, "catalog");
    }
  }

  private final Vertx vertx;
  private final Link local;
  private final int maxMessageBytes;
  private final int maxInFlight;
  private final long keepaliveMs;
  private final long metadataTimeoutNanos;
  private final Map<String, Link> remotes = new ConcurrentHashMap<>();

  public Upstreams(Vertx vertx, RunnerConnection localRunner, ModelCatalog localCatalog, int maxMessageBytes,
      int maxInFlight, long keepaliveMs, long metadataTimeoutNanos) {
    this.vertx = requireNonNull(vertx, "vertx");
    this.local = new Link("local", localRunner, localCatalog, true);
    this.maxMessageBytes = maxMessageBytes;
    this.maxInFlight = maxInFlight;
    this.keepaliveMs = keepaliveMs;
    this.metadataTimeoutNanos = metadataTimeoutNanos;
  }

  /** The pod's own runner. */
  public Link local() {
    return local;
  }

  /** The link to a remote upstream, made on first use. */
  public Link remote(String host, int port) {
    return remotes.computeIfAbsent(host + ":" + port, name -> {
      RunnerConnection connection = new RunnerConnection(vertx, host, port, maxMessageBytes, maxInFlight,
          keepaliveMs, "upstream");
      return new Link(name, connection, new ModelCatalog(connection, metadataTimeoutNanos), false);
    });
  }

  /** The deadline of a metadata lookup, in nanoseconds. */
  public long metadataTimeoutNanos() {
    return metadataTimeoutNanos;
  }

  /** Closes the remote links (the local one belongs to the sidecar). */
  public Future<Void> close() {
    List<Future<Void>> closing = new ArrayList<>();
    remotes.values().forEach(l -> closing.add(l.connection().close()));
    return Future.all(closing).<Void>mapEmpty().timeout(5, TimeUnit.SECONDS);
  }
}
