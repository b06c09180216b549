package dev.gantry.runner.source;

import java.io.IOException;
import java.util.Set;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;

/** Turns the AWS SDK's exceptions into messages that name the URI, what went wrong and what to change. */
final class S3Failures {
  private static final Set<String> DENIED = Set.of("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
      "ExpiredToken", "InvalidToken", "TokenRefreshRequired", "AllAccessDisabled");
  private static final Set<String> WRONG_REGION = Set.of("PermanentRedirect", "AuthorizationHeaderMalformed",
      "IllegalLocationConstraintException");
  private static final String KEYS = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for"
      + " temporary keys) or AWS_PROFILE";

  private S3Failures() {}

  static IOException explain(ModelUri.S3 uri, S3Settings settings, SdkException e) {
    return new IOException(uri.text() + ": " + what(uri, settings, e), e);
  }

  private static String what(ModelUri.S3 uri, S3Settings settings, SdkException e) {
    String where = settings.describe();
    if (e instanceof NoSuchBucketException) {
      return "the bucket '" + uri.bucket() + "' does not exist at " + where + "; check the bucket name"
          + (settings.endpoint().isPresent()
              ? ", and that " + settings.endpointFrom() + " points at the store that holds it"
              : ", or set MLFLOW_S3_ENDPOINT_URL (or AWS_ENDPOINT_URL_S3) if it lives in an S3-compatible store");
    }
    if (e instanceof AwsServiceException s) {
      String code = s.awsErrorDetails() == null ? "" : String.valueOf(s.awsErrorDetails().errorCode());
      if (DENIED.contains(code) || s.statusCode() == 403) {
        return "access denied by " + where + " (" + code + " " + s.statusCode() + "); " + KEYS + " to credentials"
            + " allowed s3:ListBucket and s3:GetObject on the bucket '" + uri.bucket() + "'";
      }
      if (WRONG_REGION.contains(code) || s.statusCode() == 301) {
        return "the bucket '" + uri.bucket() + "' is in another region than " + where + "; set AWS_REGION to the"
            + " bucket's region";
      }
      return where + " answered " + s.statusCode() + " " + code + ": " + s.getMessage();
    }
    if (mentions(e, "Unable to load credentials")) {
      return "no AWS credentials were found; " + KEYS + ", or run with a container or instance role";
    }
    return "could not reach " + where + " (" + rootCause(e) + "); "
        + (settings.endpoint().isPresent()
            ? "check that " + settings.endpointFrom() + " names a running store reachable from here"
            : "check the network path to S3 (proxy, VPC endpoint), or set MLFLOW_S3_ENDPOINT_URL for an"
                + " S3-compatible store");
  }

  private static boolean mentions(Throwable e, String text) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains(text)) {
        return true;
      }
    }
    return false;
  }

  private static String rootCause(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }
}
