package dev.gantry.sidecar.admin;

import dev.gantry.sidecar.cluster.StateKind;
import dev.gantry.sidecar.routing.SpecProblem;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Optional;

/**
 * One kind of declarative object the admin API keeps in cluster state (endpoints, shadows, …): how its spec is read
 * and checked, and how a stored record is built, read and shown. {@link SpecAdmin} does the rest (revisions,
 * If-Match, compare-and-set, the change log) the same way for every kind.
 *
 * @param <S> the spec, as written
 * @param <R> the record cluster state keeps: the spec with its revision and whatever is derived from it
 */
public interface SpecKind<S, R> {
  /** The map it lives in; its {@link StateKind#plural()} is its path in the admin API. */
  StateKind stateKind();

  /** The kind in messages: {@code endpoint}. */
  String noun();

  /** The spec in a JSON document; an invalid-argument {@code SidecarException} naming the field when unreadable. */
  S json(String text);

  /** The spec in a YAML document, likewise. */
  S yaml(String text);

  /** The spec's name, or null when it names none. */
  String name(S spec);

  /** The spec with this name. */
  S named(S spec, String name);

  /** Everything wrong with the spec on its own, each naming its field; empty when valid. */
  List<SpecProblem> problems(S spec);

  /** What is wrong with the spec against the world (upstreams, other objects); may ask over the network. */
  Future<List<SpecProblem>> check(S spec);

  /** The record of a spec at a revision, built on the previous record when there is one. */
  R record(Optional<R> previous, S spec, long revision, String updatedAt, String updatedBy);

  long revision(R record);

  S spec(R record);

  String toJson(R record);

  /** A stored document; {@link IllegalArgumentException} when it is not one. */
  R fromJson(String json);

  /** The record as the admin API shows it. */
  JsonObject view(R record);
}
