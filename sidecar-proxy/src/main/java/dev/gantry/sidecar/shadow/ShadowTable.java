package dev.gantry.sidecar.shadow;

import dev.gantry.sidecar.cluster.StateListener;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This sidecar's immutable snapshot of the shadows in cluster state, by endpoint, kept current by the store's
 * listener; the mirror layer reads it with one volatile read.
 */
public final class ShadowTable implements StateListener {
  private static final Logger LOG = LoggerFactory.getLogger(ShadowTable.class);
  private volatile Map<String, ShadowSpec> shadows = Map.of();

  /** The shadows, by the endpoint they copy. */
  public Map<String, ShadowSpec> snapshot() {
    return shadows;
  }

  @Override
  public synchronized void reset(Map<String, String> all) {
    Map<String, ShadowSpec> next = new HashMap<>();
    all.forEach((name, json) -> read(name, json).ifPresent(s -> next.put(name, s)));
    shadows = Map.copyOf(next);
    LOG.info("event=shadows_loaded count={} names={}", next.size(), next.keySet());
  }

  @Override
  public synchronized void put(String name, String document) {
    read(name, document).ifPresent(s -> {
      Map<String, ShadowSpec> next = new HashMap<>(shadows);
      next.put(name, s);
      shadows = Map.copyOf(next);
    });
  }

  @Override
  public synchronized void remove(String name) {
    Map<String, ShadowSpec> next = new HashMap<>(shadows);
    if (next.remove(name) != null) {
      shadows = Map.copyOf(next);
    }
  }

  private static java.util.Optional<ShadowSpec> read(String name, String json) {
    try {
      ShadowSpec spec = ShadowRecord.fromJson(json).spec();
      if (!spec.problems().isEmpty() || !name.equals(spec.name())) {
        throw new IllegalArgumentException(spec.problems().isEmpty() ? "filed under '" + name + "'"
            : spec.problems().toString());
      }
      return java.util.Optional.of(spec);
    } catch (RuntimeException e) {
      LOG.error("event=shadow_unreadable name={} reason=\"{}\"", name, e.getMessage());
      return java.util.Optional.empty();
    }
  }
}
