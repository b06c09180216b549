package dev.gantry.sidecar.core;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.Map;

/**
 * The JSON documents cluster state keeps (snake_case keys, nulls left out). Reading keeps unknown keys out rather than
 * refusing them: a newer sidecar may write fields an older one does not know, and both must go on working.
 */
public final class Documents {
  private static final ObjectMapper JSON = JsonMapper.builder()
      .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .serializationInclusion(JsonInclude.Include.NON_NULL)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .disable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
      .disable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
      .addModule(new com.fasterxml.jackson.datatype.jdk8.Jdk8Module())
      .addModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
      .build();

  private Documents() {}

  /** A record as a document. */
  public static String write(Object record) {
    try {
      return JSON.writeValueAsString(record);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a " + record.getClass().getSimpleName() + " could not be written as JSON", e);
    }
  }

  /** A document as a record; {@link IllegalArgumentException} when it is not one. */
  public static <T> T read(String json, Class<T> type) {
    try {
      return JSON.readValue(json, type);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not a " + type.getSimpleName() + ": " + e.getOriginalMessage(), e);
    }
  }

  /** A record as a JSON-like map, as the admin API shows specs. */
  public static Map<String, Object> asMap(Object record) {
    return JSON.convertValue(record, new TypeReference<Map<String, Object>>() {});
  }
}
