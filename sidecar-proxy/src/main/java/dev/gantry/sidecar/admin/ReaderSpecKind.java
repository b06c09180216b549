package dev.gantry.sidecar.admin;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.cluster.StateKind;
import dev.gantry.sidecar.core.SpecReader;

/** A {@link SpecKind} whose specs a {@link SpecReader} reads: the map, the noun and the reading, given once. */
public abstract class ReaderSpecKind<S, R> implements SpecKind<S, R> {
  private final StateKind stateKind;
  private final String noun;
  private final SpecReader<S> reader;

  protected ReaderSpecKind(StateKind stateKind, String noun, Class<S> specType) {
    this.stateKind = requireNonNull(stateKind, "stateKind");
    this.noun = requireNonNull(noun, "noun");
    this.reader = new SpecReader<>(specType, noun + " spec");
  }

  @Override
  public final StateKind stateKind() {
    return stateKind;
  }

  @Override
  public final String noun() {
    return noun;
  }

  @Override
  public final S json(String text) {
    return reader.json(text);
  }

  @Override
  public final S yaml(String text) {
    return reader.yaml(text);
  }
}
