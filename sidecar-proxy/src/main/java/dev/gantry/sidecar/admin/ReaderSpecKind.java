package dev.gantry.sidecar.admin;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.cluster.StateKind;
import dev.gantry.sidecar.core.Revisioned;
import dev.gantry.sidecar.core.SpecReader;
import java.util.function.Function;

/**
 * A {@link SpecKind} whose specs a {@link SpecReader} reads and whose records are {@link Revisioned}: the map, the
 * noun, the reading and the stored form, given once.
 */
public abstract class ReaderSpecKind<S, R extends Revisioned<S>> implements SpecKind<S, R> {
  private final StateKind stateKind;
  private final String noun;
  private final SpecReader<S> reader;
  private final Function<String, R> fromJson;

  protected ReaderSpecKind(StateKind stateKind, String noun, Class<S> specType, Function<String, R> fromJson) {
    this.stateKind = requireNonNull(stateKind, "stateKind");
    this.noun = requireNonNull(noun, "noun");
    this.reader = new SpecReader<>(specType, noun + " spec");
    this.fromJson = requireNonNull(fromJson, "fromJson");
  }

  @Override
  public final long revision(R record) {
    return record.revision();
  }

  @Override
  public final S spec(R record) {
    return record.spec();
  }

  @Override
  public final String toJson(R record) {
    return record.toJson();
  }

  @Override
  public final R fromJson(String json) {
    return fromJson.apply(json);
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
