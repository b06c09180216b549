package dev.gantry.runner.source;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where S3 is and who is asking, read from environment variables the way MLflow's and AWS's own clients read them:
 * the region from {@code AWS_REGION} or {@code AWS_DEFAULT_REGION} ({@value #DEFAULT_REGION} when neither is set),
 * an S3-compatible store's endpoint from {@code MLFLOW_S3_ENDPOINT_URL}, {@code AWS_ENDPOINT_URL_S3} or
 * {@code AWS_ENDPOINT_URL} (the first one set wins), and keys from {@code AWS_ACCESS_KEY_ID},
 * {@code AWS_SECRET_ACCESS_KEY} and {@code AWS_SESSION_TOKEN}; without keys, {@code AWS_PROFILE} names the profile
 * the SDK's default chain reads.
 *
 * @param region the signing region
 * @param regionFrom the variable the region came from, or a note that it is the default
 * @param endpoint the endpoint of an S3-compatible store, empty for AWS S3 itself
 * @param endpointFrom the variable the endpoint came from (empty when there is no endpoint)
 * @param keys an access key given in the variables, else empty (the SDK's default chain finds one)
 * @param profile the profile for the SDK's default chain, if one is named
 */
public record S3Settings(String region, String regionFrom, Optional<URI> endpoint, String endpointFrom,
    Optional<Keys> keys, Optional<String> profile) {
  /** The region used when no variable names one. MLflow's boto3 client has none; the AWS CLI also assumes it. */
  public static final String DEFAULT_REGION = "us-east-1";
  /** The endpoint variables, in the order they are read. */
  public static final List<String> ENDPOINT_VARIABLES =
      List.of("MLFLOW_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");

  /** An access key: id, secret and, for temporary credentials, a session token. */
  public record Keys(String accessKeyId, String secretAccessKey, Optional<String> sessionToken) {
    public Keys {
      requireNonNull(accessKeyId, "accessKeyId");
      requireNonNull(secretAccessKey, "secretAccessKey");
      requireNonNull(sessionToken, "sessionToken");
    }

    @Override
    public String toString() {
      return "Keys[" + accessKeyId + ", secret hidden]";
    }
  }

  public S3Settings {
    requireNonNull(region, "region");
    requireNonNull(regionFrom, "regionFrom");
    requireNonNull(endpoint, "endpoint");
    requireNonNull(endpointFrom, "endpointFrom");
    requireNonNull(keys, "keys");
    requireNonNull(profile, "profile");
  }

  /**
   * The settings the variables describe.
   *
   * @throws IllegalArgumentException naming the variable when an endpoint is not an http(s) URL, or when only half
   *     of an access key is set
   */
  public static S3Settings from(Map<String, String> env) {
    requireNonNull(env, "env");
    String region = DEFAULT_REGION;
    String regionFrom = "the default; set AWS_REGION to change it";
    for (String name : List.of("AWS_REGION", "AWS_DEFAULT_REGION")) {
      if (set(env, name)) {
        region = env.get(name).trim();
        regionFrom = name;
        break;
      }
    }
    Optional<URI> endpoint = Optional.empty();
    String endpointFrom = "";
    for (String name : ENDPOINT_VARIABLES) {
      if (set(env, name)) {
        endpoint = Optional.of(endpoint(name, env.get(name).trim()));
        endpointFrom = name;
        break;
      }
    }
    return new S3Settings(region, regionFrom, endpoint, endpointFrom, keys(env), Optional.ofNullable(
        set(env, "AWS_PROFILE") ? env.get("AWS_PROFILE").trim() : null));
  }

  /** Where requests go, for messages: the store's endpoint and its variable, or AWS S3 and the region. */
  public String describe() {
    return endpoint.map(e -> "the S3-compatible store at " + e + " (" + endpointFrom + ")")
        .orElse("AWS S3 in region " + region + " (" + regionFrom + ")");
  }

  private static URI endpoint(String name, String value) {
    try {
      URI uri = new URI(value);
      if (("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))
          && uri.getHost() != null) {
        return uri;
      }
    } catch (URISyntaxException e) {
      // explained below
    }
    throw new IllegalArgumentException("environment variable " + name + "='" + value + "' is not an http(s) URL of"
        + " an S3-compatible store; write it as http://host:port, e.g. http://minio:9000, or unset it for AWS S3");
  }

  private static Optional<Keys> keys(Map<String, String> env) {
    boolean id = set(env, "AWS_ACCESS_KEY_ID");
    boolean secret = set(env, "AWS_SECRET_ACCESS_KEY");
    if (id != secret) {
      throw new IllegalArgumentException("environment variable " + (id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY")
          + " is set but " + (id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") + " is not; set both, or neither"
          + " to let the AWS SDK's default chain (AWS_PROFILE, ~/.aws, a container or instance role) find them");
    }
    if (!id) {
      return Optional.empty();
    }
    return Optional.of(new Keys(env.get("AWS_ACCESS_KEY_ID").trim(), env.get("AWS_SECRET_ACCESS_KEY").trim(),
        Optional.ofNullable(set(env, "AWS_SESSION_TOKEN") ? env.get("AWS_SESSION_TOKEN").trim() : null)));
  }

  private static boolean set(Map<String, String> env, String name) {
    String v = env.get(name);
    return v != null && !v.isBlank();
  }
}
