package dev.gantry.sidecar.cluster;

import java.util.Map;
import java.util.Optional;

/**
 * Where the sidecars' shared declarative state lives: an embedded Hazelcast member ({@link HazelcastStateStore}), or
 * this process alone when clustering is off ({@link LocalStateStore}). Values are JSON documents keyed by name.
 *
 * <p>Reads and writes may block on the network: call them from worker threads (the admin API does), never from the
 * request path, which reads only the local snapshot that {@link #listen} keeps current.
 */
public interface StateStore extends AutoCloseable {

  /** The entry's document, if there is one. */
  Optional<String> get(StateKind kind, String name);

  /** Every entry of a kind, name to document. */
  Map<String, String> all(StateKind kind);

  /**
   * Replaces an entry if it still holds {@code expected} (absent: creates it only if there is none).
   *
   * @return whether it was written
   */
  boolean compareAndSet(StateKind kind, String name, Optional<String> expected, String document);

  /** Writes an entry whatever it holds (an entry only its writer ever writes). */
  void put(StateKind kind, String name, String document);

  /**
   * Writes an entry that expires after {@code ttlSeconds}, without waiting for the cluster: safe on an event loop.
   * Bounded maps may evict entries earlier (least recently used first).
   */
  void putExpiring(StateKind kind, String name, String document, long ttlSeconds);

  /**
   * Deletes an entry if it still holds {@code expected}.
   *
   * @return whether it was deleted
   */
  boolean compareAndDelete(StateKind kind, String name, String expected);

  /**
   * Registers a listener and hands it the whole state first ({@link StateListener#reset}); changes made after this
   * returns are heard. A member that merges back into a cluster after a split hears a reset again.
   */
  void listen(StateKind kind, StateListener listener);

  /** This member as the others see it (e.g. {@code 10.0.0.7:5701}), or {@code local}. */
  String self();

  /** The members of the cluster, oldest first; just this one when clustering is off. */
  java.util.List<String> members();

  @Override
  void close();
}
