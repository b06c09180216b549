package dev.gantry.sidecar.admin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;

/**
 * The admin API's bearer token check. The comparison takes the same time whatever the token sent: both sides are
 * hashed to SHA-256 first (so their lengths do not show) and compared with {@link MessageDigest#isEqual}, which does
 * not stop at the first difference.
 */
final class BearerToken {
  private final byte[] expected;

  BearerToken(String token) {
    this.expected = sha256(token);
  }

  /** Whether an {@code Authorization} header carries the token. */
  boolean accepts(String authorization) {
    Optional<String> sent = Optional.ofNullable(authorization)
        .filter(a -> a.regionMatches(true, 0, "Bearer ", 0, 7))
        .map(a -> a.substring(7).trim());
    // hashed and compared even when nothing usable was sent, so a missing token costs what a wrong one does
    boolean equal = MessageDigest.isEqual(expected, sha256(sent.orElse("")));
    return sent.isPresent() && equal;
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform must provide SHA-256", e);
    }
  }
}
