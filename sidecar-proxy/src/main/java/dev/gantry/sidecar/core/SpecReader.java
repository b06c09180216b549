package dev.gantry.sidecar.core;

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
import java.util.stream.Collectors;

/**
 * Reads a declarative spec (a record) from JSON or YAML with snake_case keys. Unknown keys, duplicate keys,
 * fractions where whole numbers belong and strings where numbers or booleans belong are refused; each error is a
 * {@link SidecarException} (invalid argument) naming the field's path, e.g. {@code variants[1].weight}. Reading does
 * not check the values: each spec's own {@code problems()} does.
 *
 * @param <T> the spec's record type
 */
public final class SpecReader<T> {
  private final ObjectMapper json = configure(JsonMapper.builder());
  private final ObjectMapper yaml = configure(YAMLMapper.builder());
  private final Class<T> type;
  private final String noun;

  /** @param noun what the spec is called in messages: {@code endpoint spec} */
  public SpecReader(Class<T> type, String noun) {
    this.type = requireNonNull(type, "type");
    this.noun = requireNonNull(noun, "noun");
  }

  /** The spec in a JSON document. */
  public T json(String text) {
    return read(json, text);
  }

  /** The spec in a YAML document. */
  public T yaml(String text) {
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

  private T read(ObjectMapper mapper, String text) {
    requireNonNull(text, "text");
    if (text.isBlank()) {
      throw SidecarException.invalid(noun + ": the document is empty");
    }
    try {
      T spec = mapper.readValue(text, type);
      if (spec == null) {
        throw SidecarException.invalid(noun + ": the document is empty");
      }
      return spec;
    } catch (UnrecognizedPropertyException e) {
      throw SidecarException.invalid(noun + ": " + path(e) + ": unknown key; known keys here: "
          + e.getKnownPropertyIds().stream().map(String::valueOf).sorted().collect(Collectors.joining(", ")));
    } catch (MismatchedInputException e) {
      throw SidecarException.invalid(noun + ": " + path(e) + ": expected " + describe(e.getTargetType()));
    } catch (JsonMappingException e) {
      throw SidecarException.invalid(noun + ": " + path(e) + ": " + e.getOriginalMessage());
    } catch (JsonProcessingException e) {
      throw SidecarException.invalid(noun + ": not well-formed at line "
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
    if (type == Double.class || type == double.class) {
      return "a number";
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
