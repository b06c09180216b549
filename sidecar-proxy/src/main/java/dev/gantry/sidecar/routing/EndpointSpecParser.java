package dev.gantry.sidecar.routing;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.MapperBuilder;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.gantry.sidecar.core.SidecarException;
import java.util.stream.Collectors;

/**
 * Reads an {@link EndpointSpec} from JSON or YAML with snake_case keys ({@code sticky_key}, {@code allow_override}).
 * Unknown keys, duplicate keys, fractional weights and strings where numbers or booleans belong are refused; each
 * error is a {@link SidecarException} (invalid argument) naming the field's path, e.g. {@code variants[1].weight}.
 * Parsing does not check the values: {@link EndpointSpec#problems()} does.
 */
public final class EndpointSpecParser {
  private final ObjectMapper json = configure(JsonMapper.builder());
  private final ObjectMapper yaml = configure(YAMLMapper.builder());

  /** The spec in a JSON document. */
  public EndpointSpec json(String text) {
    return read(json, text);
  }

  /** The spec in a YAML document. */
  public EndpointSpec yaml(String text) {
    return read(yaml, text);
  }

  private static ObjectMapper configure(MapperBuilder<?, ?> builder) {
    return builder
        .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .build();
  }

  private static EndpointSpec read(ObjectMapper mapper, String text) {
    requireNonNull(text, "text");
    if (text.isBlank()) {
      throw SidecarException.invalid("endpoint spec: the document is empty");
    }
    try {
      EndpointSpec spec = mapper.readValue(text, EndpointSpec.class);
      if (spec == null) {
        throw SidecarException.invalid("endpoint spec: the document is empty");
      }
      return spec;
    } catch (UnrecognizedPropertyException e) {
      throw SidecarException.invalid("endpoint spec: " + path(e) + ": unknown key; known keys here: "
          + e.getKnownPropertyIds().stream().map(String::valueOf).sorted().collect(Collectors.joining(", ")));
    } catch (MismatchedInputException e) {
      throw SidecarException.invalid("endpoint spec: " + path(e) + ": expected " + describe(e.getTargetType()));
    } catch (JsonMappingException e) {
      throw SidecarException.invalid("endpoint spec: " + path(e) + ": " + e.getOriginalMessage());
    } catch (JsonProcessingException e) {
      throw SidecarException.invalid("endpoint spec: not well-formed at line "
          + (e.getLocation() == null ? "?" : e.getLocation().getLineNr()) + ": " + e.getOriginalMessage());
    }
  }

  /** The field path Jackson was at, as {@code variants[1].weight}. */
  private static String path(JsonMappingException e) {
    StringBuilder path = new StringBuilder();
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        path.append(path.length() == 0 ? "" : ".").append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        path.append('[').append(ref.getIndex()).append(']');
      }
    }
    return path.length() == 0 ? "(document)" : path.toString();
  }

  private static String describe(Class<?> type) {
    if (type == null) {
      return "another value";
    }
    if (type == Integer.class || type == int.class) {
      return "a whole number";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "true or false";
    }
    if (type == String.class) {
      return "text";
    }
    return type.getSimpleName().endsWith("Spec") ? "a mapping" : "a list";
  }
}
