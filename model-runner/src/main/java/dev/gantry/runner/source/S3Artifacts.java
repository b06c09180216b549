package dev.gantry.runner.source;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * Downloads model artifacts from S3 or an S3-compatible store (MinIO, Ceph, s3rver) with the AWS SDK, configured
 * from environment variables as MLflow's and AWS's clients are (see {@link S3Settings}): every object under an
 * {@code s3://bucket/prefix} is written under a directory by its path relative to the prefix, or, when the key names
 * one object, that file. Blocking: call it from a worker thread, never from an event loop.
 */
public final class S3Artifacts implements AutoCloseable {
  /** Objects per listing page: S3's own most. */
  static final int PAGE_SIZE = 1000;
  private static final Logger LOG = LoggerFactory.getLogger(S3Artifacts.class);
  private final S3Client s3;
  private final AwsCredentialsProvider credentials;
  private final S3Settings settings;
  private final int pageSize;

  S3Artifacts(S3Settings settings, int pageSize) {
    this.settings = requireNonNull(settings, "settings");
    if (pageSize < 1 || pageSize > PAGE_SIZE) {
      throw new IllegalArgumentException("pageSize " + pageSize + " is not in 1.." + PAGE_SIZE);
    }
    this.pageSize = pageSize;
    this.credentials = credentials(settings);
    S3ClientBuilder b = S3Client.builder().httpClientBuilder(UrlConnectionHttpClient.builder())
        .region(Region.of(settings.region())).credentialsProvider(credentials);
    settings.endpoint().ifPresentOrElse(
        // S3-compatible stores are usually addressed by path, not by a bucket's own host name
        e -> b.endpointOverride(e).forcePathStyle(true),
        // a bucket in another region than the one configured is still found
        () -> b.crossRegionAccessEnabled(true));
    this.s3 = b.build();
  }

  /**
   * A downloader configured from {@code env} (usually {@link System#getenv()}); see {@link S3Settings#from}.
   *
   * @throws IllegalArgumentException naming the variable and the fix when a variable is malformed
   */
  public static S3Artifacts fromEnvironment(Map<String, String> env) {
    return new S3Artifacts(S3Settings.from(env), PAGE_SIZE);
  }

  /** Where this downloader sends its requests, for logs and messages. */
  public S3Settings settings() {
    return settings;
  }

  /**
   * Writes the objects {@code uri} names under {@code into} (created if needed). Files already there with the same
   * names are replaced; nothing else is removed.
   *
   * @throws IOException naming the URI and what to fix when nothing is there, the bucket is missing, access is
   *     denied, the store cannot be reached, or a key would land outside {@code into}
   */
  public void download(ModelUri.S3 uri, Path into) throws IOException {
    requireNonNull(uri, "uri");
    Path root = Files.createDirectories(requireNonNull(into, "into")).toAbsolutePath().normalize();
    String key = uri.key();
    String prefix = key.isEmpty() || key.endsWith("/") ? key : key + "/";
    int files;
    try {
      files = downloadPrefix(uri, prefix, root);
      if (files == 0 && !prefix.equals(key) && downloadObject(uri, key, root)) {
        files = 1;
      }
    } catch (SdkException e) {
      throw S3Failures.explain(uri, settings, e);
    }
    if (files > 0) {
      LOG.info("s3 download uri={} files={} into={}", uri.text(), files, root);
      return;
    }
    throw new IOException(uri.text() + ": there are no objects under this key at " + settings.describe()
        + "; check the path after the bucket name (keys are case-sensitive), e.g. with `aws s3 ls " + uri.text()
        + "`");
  }

  /** Every object under {@code prefix}, listed page by page; how many files were written. */
  private int downloadPrefix(ModelUri.S3 uri, String prefix, Path root) throws IOException {
    ListObjectsV2Request list = ListObjectsV2Request.builder().bucket(uri.bucket()).prefix(prefix)
        .maxKeys(pageSize).build();
    int files = 0;
    for (S3Object o : s3.listObjectsV2Paginator(list).contents()) {
      String relative = o.key().substring(prefix.length());
      if (relative.isEmpty()) {
        continue; // the prefix's own folder marker
      }
      Path target = inside(uri, root, o.key(), relative);
      if (relative.endsWith("/")) {
        directories(uri, target, o.key()); // an empty folder, as S3 consoles create them
        continue;
      }
      write(uri, o.key(), target);
      files++;
    }
    return files;
  }

  /** The object {@code key} as one file named after its last segment; false when there is no such object. */
  private boolean downloadObject(ModelUri.S3 uri, String key, Path root) throws IOException {
    try {
      write(uri, key, inside(uri, root, key, key.substring(key.lastIndexOf('/') + 1)));
      return true;
    } catch (NoSuchKeyException e) {
      return false;
    }
  }

  private void write(ModelUri.S3 uri, String key, Path target) throws IOException {
    directories(uri, target.getParent(), key);
    GetObjectRequest get = GetObjectRequest.builder().bucket(uri.bucket()).key(key).build();
    try (ResponseInputStream<GetObjectResponse> in = s3.getObject(get)) {
      long written;
      try {
        written = Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
      } catch (DirectoryNotEmptyException e) {
        throw clash(uri, key, e);
      }
      Long expected = in.response().contentLength();
      if (expected != null && written != expected) {
        throw new IOException(uri.text() + ": s3://" + uri.bucket() + "/" + key + " was cut short (" + written
            + " of " + expected + " bytes); download it again");
      }
    }
  }

  /** The path a key maps to, refused when it would land outside the download directory. */
  static Path inside(ModelUri.S3 uri, Path root, String key, String relative) throws IOException {
    Path target = root.resolve(relative).normalize();
    if (!target.startsWith(root) || target.equals(root)) {
      throw new IOException(uri.text() + ": the object key '" + key + "' would be written outside the download"
          + " directory; rename or remove that object (keys with .. or a leading / cannot be downloaded)");
    }
    return target;
  }

  private static void directories(ModelUri.S3 uri, Path dir, String key) throws IOException {
    try {
      Files.createDirectories(dir);
    } catch (FileAlreadyExistsException e) {
      throw clash(uri, key, e);
    }
  }

  /** S3 holds both an object a/b and an object a/b/c; a disk cannot hold both a file b and a folder b. */
  private static IOException clash(ModelUri.S3 uri, String key, FileSystemException e) {
    return new IOException(uri.text() + ": the object key '" + key + "' and another object need the same path ("
        + e.getFile() + ") as a file and as a folder, which cannot share a name on disk; rename one of them", e);
  }

  /** The keys the variables give, else the SDK's default chain (profile, ~/.aws, container or instance role). */
  private static AwsCredentialsProvider credentials(S3Settings settings) {
    if (settings.keys().isPresent()) {
      S3Settings.Keys k = settings.keys().get();
      AwsCredentials c = k.sessionToken().isPresent()
          ? AwsSessionCredentials.create(k.accessKeyId(), k.secretAccessKey(), k.sessionToken().get())
          : AwsBasicCredentials.create(k.accessKeyId(), k.secretAccessKey());
      return StaticCredentialsProvider.create(c);
    }
    DefaultCredentialsProvider.Builder chain = DefaultCredentialsProvider.builder();
    settings.profile().ifPresent(chain::profileName);
    return chain.build();
  }

  @Override
  public void close() {
    s3.close();
    if (credentials instanceof SdkAutoCloseable c) {
      c.close();
    }
  }
}
