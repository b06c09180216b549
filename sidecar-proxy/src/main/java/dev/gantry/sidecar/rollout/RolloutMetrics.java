package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.cluster.StateListener;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every rollout's state as metrics, read from cluster state (so every sidecar exports the same, cluster-wide figures;
 * aggregate with {@code max by (rollout)}):
 * <ul>
 *   <li>{@code gantry_rollout_phase{rollout, phase}}: 1 for the phase it is in, 0 for the others;
 *   <li>{@code gantry_rollout_canary_weight{rollout}};
 *   <li>{@code gantry_rollout_check_value{rollout, check}}: each check's value at the last analysis (NaN: none);
 *   <li>{@code gantry_rollout_decisions_total{rollout, result}}: decisions since the rollout was made, by result.
 * </ul>
 */
public final class RolloutMetrics implements StateListener {
  private final MeterRegistry registry;
  private final Map<String, RolloutStatus> statuses = new ConcurrentHashMap<>();
  private final Map<String, List<Meter>> meters = new HashMap<>();
  private final java.util.Set<String> registered = new java.util.HashSet<>();

  public RolloutMetrics(MeterRegistry registry) {
    this.registry = requireNonNull(registry, "registry");
  }

  @Override
  public synchronized void reset(Map<String, String> all) {
    new ArrayList<>(statuses.keySet()).forEach(this::remove);
    all.forEach(this::put);
  }

  @Override
  public synchronized void put(String name, String document) {
    RolloutStatus s;
    try {
      s = RolloutStatus.fromJson(document);
    } catch (IllegalArgumentException e) {
      return;
    }
    statuses.put(name, s);
    List<Meter> own = meters.computeIfAbsent(name, k -> new ArrayList<>());
    if (own.isEmpty()) {
      for (RolloutState.Phase p : RolloutState.Phase.values()) {
        own.add(Gauge.builder("gantry.rollout.phase", statuses, m -> phase(m, name, p))
            .description("1 for the phase the rollout is in, 0 for the others").tag("rollout", name)
            .tag("phase", p.name().toLowerCase()).register(registry));
      }
      own.add(Gauge.builder("gantry.rollout.canary.weight", statuses, m -> weight(m, name))
          .description("The canary's weight, percent").tag("rollout", name).register(registry));
    }
    for (Analysis.Check c : s.lastChecks()) {
      if (registered.add(name + "\0check\0" + c.name())) {
        own.add(Gauge.builder("gantry.rollout.check.value", statuses, m -> checkValue(m, name, c.name()))
            .description("Each check's value at the rollout's last analysis (NaN: no value)").tag("rollout", name)
            .tag("check", c.name()).register(registry));
      }
    }
    for (String result : s.decisionCounts().keySet()) {
      if (registered.add(name + "\0result\0" + result)) {
        own.add(FunctionCounter.builder("gantry.rollout.decisions", statuses, m -> decisions(m, name, result))
            .description("Rollout decisions, by result").tag("rollout", name).tag("result", result)
            .register(registry));
      }
    }
  }

  @Override
  public synchronized void remove(String name) {
    statuses.remove(name);
    List<Meter> own = meters.remove(name);
    if (own != null) {
      own.forEach(registry::remove);
    }
    registered.removeIf(k -> k.startsWith(name + "\0"));
  }

  private static double phase(Map<String, RolloutStatus> m, String name, RolloutState.Phase p) {
    RolloutStatus s = m.get(name);
    return s == null ? Double.NaN : s.state().phase() == p ? 1 : 0;
  }

  private static double weight(Map<String, RolloutStatus> m, String name) {
    RolloutStatus s = m.get(name);
    return s == null ? Double.NaN : s.state().canaryWeight();
  }

  private static double checkValue(Map<String, RolloutStatus> m, String name, String check) {
    RolloutStatus s = m.get(name);
    if (s == null) {
      return Double.NaN;
    }
    return s.lastChecks().stream().filter(c -> c.name().equals(check)).findFirst()
        .map(c -> c.value().isPresent() ? c.value().getAsDouble() : Double.NaN).orElse(Double.NaN);
  }

  private static double decisions(Map<String, RolloutStatus> m, String name, String result) {
    RolloutStatus s = m.get(name);
    return s == null ? 0 : s.decisionCounts().getOrDefault(result, 0L);
  }
}
