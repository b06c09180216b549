package dev.gantry.sidecar.routing;

import dev.gantry.sidecar.core.SidecarException;
import dev.gantry.sidecar.core.SpecReader;

/**
 * Reads an {@link EndpointSpec} from JSON or YAML with snake_case keys ({@code sticky_key}, {@code allow_override}).
 * Unknown keys, duplicate keys, fractional weights and strings where numbers or booleans belong are refused; each
 * error is a {@link SidecarException} (invalid argument) naming the field's path, e.g. {@code variants[1].weight}.
 * Parsing does not check the values: {@link EndpointSpec#problems()} does.
 */
public final class EndpointSpecParser {
  private final SpecReader<EndpointSpec> reader = new SpecReader<>(EndpointSpec.class, "endpoint spec");

  /** The spec in a JSON document. */
  public EndpointSpec json(String text) {
    return reader.json(text);
  }

  /** The spec in a YAML document. */
  public EndpointSpec yaml(String text) {
    return reader.yaml(text);
  }
}
