package dev.gantry.sidecar.rollout;

import static java.util.Objects.requireNonNull;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * PromQL checks over Prometheus's HTTP API ({@code GET /api/v1/query}). A query that returns no series, more than
 * one, NaN or an infinity, or that fails (Prometheus down, a bad query, a timeout), gives no value: the check is
 * inconclusive, never a pass.
 */
public final class PrometheusSource {
  private final WebClient client;

  public PrometheusSource(WebClient client) {
    this.client = requireNonNull(client, "client");
  }

  /** A query's value, or why there is none. */
  public record Result(OptionalDouble value, String problem) {}

  /** The query with the rollout's names in place of {@code {{endpoint}}}, {@code {{stable}}} and the others. */
  public static String template(String query, RolloutSpec spec) {
    String out = query;
    for (Map.Entry<String, String> e : Map.of("endpoint", spec.endpoint(), "stable", spec.stable(), "canary",
        spec.canary(), "rollout", spec.name(), "interval", Durations.format(spec.interval())).entrySet()) {
      out = out.replace("{{" + e.getKey() + "}}", e.getValue()).replace("{{ " + e.getKey() + " }}", e.getValue());
    }
    return out;
  }

  /** Runs an instant query; never fails (a failure is a result without a value). */
  public Future<Result> query(String baseUrl, String promql, Duration timeout) {
    String url = baseUrl.replaceAll("/+$", "") + "/api/v1/query";
    return client.getAbs(url).addQueryParam("query", promql).timeout(timeout.toMillis()).send()
        .map(reply -> {
          if (reply.statusCode() != 200) {
            return none("Prometheus answered " + reply.statusCode() + ": " + abbreviate(reply.bodyAsString()));
          }
          return read(reply.bodyAsJsonObject());
        })
        .otherwise(e -> none("Prometheus did not answer: " + e.getMessage()));
  }

  static Result read(JsonObject body) {
    if (body == null || !"success".equals(body.getString("status"))) {
      return none("Prometheus said " + (body == null ? "nothing" : body.getString("error", body.encode())));
    }
    JsonObject data = body.getJsonObject("data");
    String type = data.getString("resultType");
    double value;
    if ("scalar".equals(type)) {
      value = number(data.getJsonArray("result"));
    } else if ("vector".equals(type)) {
      JsonArray result = data.getJsonArray("result");
      if (result.isEmpty()) {
        return none("the query returned no series");
      }
      if (result.size() > 1) {
        return none("the query returned " + result.size() + " series; aggregate it to one (e.g. sum(...))");
      }
      value = number(result.getJsonObject(0).getJsonArray("value"));
    } else {
      return none("the query returned a " + type + "; it must return one series or a scalar");
    }
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      return none("the query's value is " + value);
    }
    return new Result(OptionalDouble.of(value), null);
  }

  private static double number(JsonArray sample) {
    String v = sample.getString(1);
    return switch (v.toLowerCase(Locale.ROOT)) {
      case "nan" -> Double.NaN;
      case "+inf", "inf" -> Double.POSITIVE_INFINITY;
      case "-inf" -> Double.NEGATIVE_INFINITY;
      default -> Double.parseDouble(v);
    };
  }

  private static Result none(String why) {
    return new Result(OptionalDouble.empty(), why);
  }

  private static String abbreviate(String s) {
    return s == null ? "" : s.length() > 200 ? s.substring(0, 200) + "…" : s;
  }
}
