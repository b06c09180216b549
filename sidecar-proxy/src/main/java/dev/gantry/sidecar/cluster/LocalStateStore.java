package dev.gantry.sidecar.cluster;

import static java.util.Objects.requireNonNull;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** The state of one sidecar alone, for a single pod with clustering off: the same contract, kept in memory. */
public final class LocalStateStore implements StateStore {
  private final Map<StateKind, Map<String, String>> maps = new EnumMap<>(StateKind.class);
  private final Map<StateKind, List<StateListener>> listeners = new EnumMap<>(StateKind.class);
  /** When expiring entries (feedback) expire, by name. */
  private final Map<String, Long> expiries = new ConcurrentHashMap<>();
  /** Expiring entries kept at most: beyond, new ones are not kept (feedback for them is answered 404). */
  static final int MAX_EXPIRING = 1_000_000;

  public LocalStateStore() {
    for (StateKind kind : StateKind.values()) {
      maps.put(kind, new ConcurrentHashMap<>());
      listeners.put(kind, new CopyOnWriteArrayList<>());
    }
  }

  @Override
  public Optional<String> get(StateKind kind, String name) {
    Long expiry = expiries.get(name);
    if (expiry != null && expiry - System.nanoTime() < 0 && kind == StateKind.FEEDBACK) {
      maps.get(kind).remove(name);
      expiries.remove(name);
    }
    return Optional.ofNullable(maps.get(kind).get(name));
  }

  @Override
  public Map<String, String> all(StateKind kind) {
    return Map.copyOf(maps.get(kind));
  }

  @Override
  public synchronized boolean compareAndSet(StateKind kind, String name, Optional<String> expected, String document) {
    requireNonNull(document, "document");
    Map<String, String> map = maps.get(kind);
    boolean written = expected.isEmpty() ? map.putIfAbsent(name, document) == null
        : map.replace(name, expected.get(), document);
    if (written) {
      listeners.get(kind).forEach(l -> l.put(name, document));
    }
    return written;
  }

  @Override
  public synchronized void put(StateKind kind, String name, String document) {
    maps.get(kind).put(name, document);
    listeners.get(kind).forEach(l -> l.put(name, document));
  }

  @Override
  public void putExpiring(StateKind kind, String name, String document, long ttlSeconds) {
    long now = System.nanoTime();
    Map<String, String> map = maps.get(kind);
    if (map.size() >= MAX_EXPIRING) {
      expiries.entrySet().removeIf(e -> e.getValue() - now < 0 && map.remove(e.getKey()) != null);
      if (map.size() >= MAX_EXPIRING) {
        return;
      }
    }
    map.put(name, document);
    expiries.put(name, now + java.util.concurrent.TimeUnit.SECONDS.toNanos(ttlSeconds));
  }

  @Override
  public synchronized boolean compareAndDelete(StateKind kind, String name, String expected) {
    boolean deleted = maps.get(kind).remove(name, expected);
    if (deleted) {
      listeners.get(kind).forEach(l -> l.remove(name));
    }
    return deleted;
  }

  @Override
  public synchronized void listen(StateKind kind, StateListener listener) {
    listener.reset(all(kind));
    listeners.get(kind).add(listener);
  }

  @Override
  public String self() {
    return "local";
  }

  @Override
  public List<String> members() {
    return List.of("local");
  }

  @Override
  public void close() {
    // nothing held
  }
}
