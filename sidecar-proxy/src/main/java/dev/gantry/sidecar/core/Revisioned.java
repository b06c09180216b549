package dev.gantry.sidecar.core;

/**
 * A declarative object as cluster state keeps it: a spec at a revision, stored as a JSON document.
 *
 * @param <S> the spec
 */
public interface Revisioned<S> {
  /** 1 when created, one more at each change. */
  long revision();

  /** The spec as applied. */
  S spec();

  /** The stored document. */
  String toJson();
}
