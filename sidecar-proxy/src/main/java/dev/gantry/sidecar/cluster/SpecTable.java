package dev.gantry.sidecar.cluster;

import static java.util.Objects.requireNonNull;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This sidecar's immutable snapshot of one kind of spec in cluster state, by name, kept current by the store's
 * listener; readers on the request path take it with one volatile read. A document that cannot be read is logged and
 * left out, never served half-read.
 *
 * @param <S> the spec
 */
public final class SpecTable<S> implements StateListener {
  private static final Logger LOG = LoggerFactory.getLogger(SpecTable.class);
  private final String noun;
  private final Function<String, S> read;
  private volatile Map<String, S> specs = Map.of();

  /**
   * @param read a stored document to its spec; throws when it is not a valid one
   */
  public SpecTable(String noun, Function<String, S> read) {
    this.noun = requireNonNull(noun, "noun");
    this.read = requireNonNull(read, "read");
  }

  /** The specs, by name. */
  public Map<String, S> snapshot() {
    return specs;
  }

  @Override
  public synchronized void reset(Map<String, String> all) {
    Map<String, S> next = new HashMap<>();
    all.forEach((name, json) -> read(name, json).ifPresent(s -> next.put(name, s)));
    specs = Map.copyOf(next);
    LOG.info("event={}s_loaded count={} names={}", noun, next.size(), next.keySet());
  }

  @Override
  public synchronized void put(String name, String document) {
    read(name, document).ifPresent(s -> {
      Map<String, S> next = new HashMap<>(specs);
      next.put(name, s);
      specs = Map.copyOf(next);
    });
  }

  @Override
  public synchronized void remove(String name) {
    Map<String, S> next = new HashMap<>(specs);
    if (next.remove(name) != null) {
      specs = Map.copyOf(next);
    }
  }

  private Optional<S> read(String name, String json) {
    try {
      return Optional.of(read.apply(json));
    } catch (RuntimeException e) {
      LOG.error("event={}_unreadable name={} reason=\"{}\"", noun, name, e.getMessage());
      return Optional.empty();
    }
  }
}
