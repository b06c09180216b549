package dev.gantry.sidecar.routing;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The bucket a sticky key lands in, the same on every sidecar and reproducible in any language:
 *
 * <pre>
 *   digest = SHA-256( UTF-8(salt) || 0x00 || UTF-8(key) )
 *   bucket = (first 8 bytes of digest, as an unsigned big-endian 64-bit integer) mod 10000
 * </pre>
 *
 * <p>In Python: {@code int.from_bytes(hashlib.sha256(salt.encode() + b"\0" + key.encode()).digest()[:8], "big") %
 * 10000}. The zero byte keeps {@code ("ab", "c")} and {@code ("a", "bc")} apart; the bias of reducing 2^64 values
 * modulo 10000 is below 10^-15. SHA-256 is in every JDK and costs a few hundred nanoseconds for a short key, small
 * beside the hop to the runner.
 */
public final class StickyHash {
  private StickyHash() {}

  /** The bucket in {@code [0, BucketAllocation.BUCKETS)} for a key under an endpoint's salt. */
  public static int bucket(String salt, String key) {
    requireNonNull(salt, "salt");
    requireNonNull(key, "key");
    MessageDigest sha = sha256();
    sha.update(salt.getBytes(StandardCharsets.UTF_8));
    sha.update((byte) 0);
    byte[] digest = sha.digest(key.getBytes(StandardCharsets.UTF_8));
    long prefix = 0;
    for (int i = 0; i < Long.BYTES; i++) {
      prefix = (prefix << 8) | (digest[i] & 0xff);
    }
    return (int) Long.remainderUnsigned(prefix, BucketAllocation.BUCKETS);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform must provide SHA-256", e);
    }
  }
}
