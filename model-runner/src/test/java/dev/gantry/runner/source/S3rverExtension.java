package dev.gantry.runner.source;

import static org.awaitility.Awaitility.await;

import dev.gantry.runner.TestModels;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;

/**
 * A real S3-compatible server, s3rver (npm, pinned in {@code model-runner/src/test/s3rver}, installed there by
 * {@code npm ci} as {@code .ci/run} does), started once per test class on a loopback ephemeral port with its data in
 * a temporary directory, and stopped with its whole process tree afterwards. Each test is skipped, saying how to
 * install it, only when Node.js or s3rver is missing. Register it as a static field with {@code @RegisterExtension}.
 */
public final class S3rverExtension implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback {
  /** s3rver's built-in access key id and secret. */
  public static final String KEY = "S3RVER";
  private static final Pattern LISTENING = Pattern.compile("listening on ([^:\\s]+):(\\d+)");
  private String missing;
  private Path data;
  private Process process;
  private URI endpoint;
  private S3Client client;

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    Path home = TestModels.examples().getParent().getParent().resolve("model-runner/src/test/s3rver");
    Path script = home.resolve("node_modules/s3rver/bin/s3rver.js");
    if (!nodeRuns() || !Files.isRegularFile(script)) {
      // each test is skipped with this message (an assumption failing here would hide it in the reports)
      missing = "s3rver is not installed: install Node.js (18 or newer) and run `npm ci` in " + home
          + " (.ci/run does both)";
      return;
    }
    data = Files.createTempDirectory("gantry-s3rver");
    // s3rver's continuation tokens (listing pages after the first) use DES, which Node 17+ keeps in OpenSSL's
    // legacy provider
    process = new ProcessBuilder("node", "--openssl-legacy-provider", script.toString(), "--directory", data.toString(), "--address",
        "127.0.0.1", "--port", "0", "--silent").redirectErrorStream(true).start();
    AtomicReference<URI> found = new AtomicReference<>();
    Thread reader = new Thread(() -> readUntilListening(found), "s3rver-output");
    reader.setDaemon(true);
    reader.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> found.get() != null || !process.isAlive());
    if (found.get() == null) {
      throw new IllegalStateException("s3rver exited with " + process.exitValue() + " before it listened");
    }
    endpoint = found.get();
    client = S3Client.builder().httpClientBuilder(UrlConnectionHttpClient.builder()).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(KEY, KEY)))
        .endpointOverride(endpoint).forcePathStyle(true)
        // s3rver 3.7 stores aws-chunked bodies as they come (chunk signatures and all), and predates the SDK's
        // default CRC32 trailers on uploads: send plain bodies
        .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build())
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED).build();
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    Assumptions.assumeTrue(missing == null, missing);
  }

  private void readUntilListening(AtomicReference<URI> found) {
    try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8))) {
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        Matcher m = LISTENING.matcher(line);
        if (found.get() == null && m.find()) {
          found.set(URI.create("http://" + m.group(1) + ":" + m.group(2)));
        }
      }
    } catch (IOException e) {
      // the process ended; beforeAll sees it is no longer alive
    }
  }

  private static boolean nodeRuns() {
    try {
      return new ProcessBuilder("node", "--version").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (client != null) {
      client.close();
    }
    if (process != null) {
      List<ProcessHandle> children = process.descendants().toList();
      children.forEach(ProcessHandle::destroy);
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        children.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    if (data != null) {
      try (Stream<Path> files = Files.walk(data)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /** The server's URL. */
  public URI endpoint() {
    return endpoint;
  }

  /** The server's operating-system process, to check it is gone. */
  public ProcessHandle process() {
    return process.toHandle();
  }

  /** Environment variables as a user would set them for this server: s3rver's keys and MLflow's endpoint variable. */
  public Map<String, String> env() {
    return Map.of("AWS_ACCESS_KEY_ID", KEY, "AWS_SECRET_ACCESS_KEY", KEY,
        "MLFLOW_S3_ENDPOINT_URL", endpoint.toString());
  }

  /** An SDK client with s3rver's keys, for creating buckets and uploading what tests download. */
  public S3Client client() {
    return client;
  }

  /** Creates a bucket. */
  public void bucket(String name) {
    client.createBucket(b -> b.bucket(name));
  }

  /** Puts one object. */
  public void put(String bucket, String key, byte[] content) {
    client.putObject(p -> p.bucket(bucket).key(key), RequestBody.fromBytes(content));
  }

  /** Uploads every file under {@code dir} to {@code bucket}, keyed {@code prefix} + its relative path. */
  public void upload(Path dir, String bucket, String prefix) {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        put(bucket, prefix + dir.relativize(f).toString().replace('\\', '/'), Files.readAllBytes(f));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
