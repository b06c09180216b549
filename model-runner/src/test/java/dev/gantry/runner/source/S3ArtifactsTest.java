package dev.gantry.runner.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gantry.runner.TestModels;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * S3 downloads against a real S3-compatible server (s3rver): what the SDK uploads comes back byte for byte, by
 * prefix, nested or as one object, across listing pages; a missing bucket, an empty prefix, wrong keys and an
 * unreachable endpoint are errors that name the URI and what to fix; a cache fetch that fails midway leaves nothing.
 */
class S3ArtifactsTest {
  @RegisterExtension
  static final S3rverExtension S3 = new S3rverExtension();

  @TempDir
  Path into;

  static ModelUri.S3 s3(String uri) {
    return (ModelUri.S3) ModelUri.parse(uri);
  }

  /** Every file under a directory by its relative path, with its bytes. */
  static Map<String, byte[]> files(Path dir) throws IOException {
    Map<String, byte[]> files = new TreeMap<>();
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path f : all.filter(Files::isRegularFile).toList()) {
        files.put(dir.relativize(f).toString(), Files.readAllBytes(f));
      }
    }
    return files;
  }

  static void assertSameFiles(Path actual, Path expected) throws IOException {
    Map<String, byte[]> want = files(expected);
    Map<String, byte[]> got = files(actual);
    assertThat(got.keySet()).containsExactlyElementsOf(want.keySet());
    want.forEach((name, bytes) -> assertThat(got.get(name)).as(name).isEqualTo(bytes));
  }

  @Test
  void anMlflowModelDirectoryComesBackByteForByteThroughMlflowsEndpointVariable() throws Exception {
    Path model = TestModels.examples().resolve("churn-mlflow");
    S3.bucket("mlflow-artifacts");
    S3.upload(model, "mlflow-artifacts", "1/0a1b2c3d/artifacts/model/");
    try (S3Artifacts artifacts = S3Artifacts.fromEnvironment(S3.env())) {
      assertThat(artifacts.settings().describe()).contains(S3.endpoint().toString(), "MLFLOW_S3_ENDPOINT_URL");
      artifacts.download(s3("s3://mlflow-artifacts/1/0a1b2c3d/artifacts/model"), into.resolve("plain"));
      artifacts.download(s3("s3://mlflow-artifacts/1/0a1b2c3d/artifacts/model/"), into.resolve("slash"));
    }
    assertThat(files(model)).containsKeys("MLmodel", Path.of("data", "model.pth").toString());
    assertSameFiles(into.resolve("plain"), model);
    assertSameFiles(into.resolve("slash"), model);
  }

  @Test
  void nestedFoldersKeepTheirPathsAndSiblingKeysSharingTheNameAreLeftOut() throws Exception {
    S3.bucket("nested");
    S3.put("nested", "team/m/MLmodel", bytes("flavors: {}"));
    S3.put("nested", "team/m/data/deep/weights.bin", new byte[] {0, 1, 2, (byte) 255});
    S3.put("nested", "team/m/empty/", new byte[0]);
    S3.put("nested", "team/m-old/MLmodel", bytes("older"));
    S3.put("nested", "team/m2/MLmodel", bytes("another"));
    S3.put("nested", "team/mlmodel", bytes("a sibling object"));
    try (S3Artifacts artifacts = S3Artifacts.fromEnvironment(S3.env())) {
      artifacts.download(s3("s3://nested/team/m"), into);
    }
    assertThat(files(into)).containsOnlyKeys("MLmodel", Path.of("data", "deep", "weights.bin").toString());
    assertThat(into.resolve("data/deep/weights.bin")).hasBinaryContent(new byte[] {0, 1, 2, (byte) 255});
    assertThat(into.resolve("empty")).isEmptyDirectory();
  }

  @Test
  void aKeyNamingOneObjectDownloadsThatFileByItsName() throws Exception {
    S3.bucket("single");
    byte[] weights = Files.readAllBytes(TestModels.examples().resolve("churn-mlflow/data/model.pth"));
    S3.put("single", "models/churn/model.pth", weights);
    S3.put("single", "models/churn/model.pth.sha256", bytes("not part of it"));
    try (S3Artifacts artifacts = S3Artifacts.fromEnvironment(S3.env())) {
      artifacts.download(s3("s3://single/models/churn/model.pth"), into);
    }
    assertThat(files(into)).containsOnlyKeys("model.pth");
    assertThat(into.resolve("model.pth")).hasBinaryContent(weights);
  }

  @Test
  void listingsArePagedSoObjectsPastTheFirstPageArrive() throws Exception {
    S3.bucket("paged");
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 11; i++) {
      names.add("part-" + i + ".bin");
      S3.put("paged", "many/part-" + i + ".bin", bytes("part " + i));
    }
    // three objects a page: four listing requests, each continuing where the last one stopped
    try (S3Artifacts artifacts = new S3Artifacts(S3Settings.from(S3.env()), 3)) {
      artifacts.download(s3("s3://paged/many"), into);
    }
    assertThat(files(into).keySet()).containsExactlyInAnyOrderElementsOf(names);
    assertThat(into.resolve("part-10.bin")).hasContent("part 10");
  }

  @Test
  void aMissingBucketNamesTheBucketAndTheEndpointVariable() throws Exception {
    try (S3Artifacts artifacts = S3Artifacts.fromEnvironment(S3.env())) {
      assertThatThrownBy(() -> artifacts.download(s3("s3://no-such-bucket/model"), into))
          .isInstanceOf(IOException.class)
          .hasMessageStartingWith("s3://no-such-bucket/model: ")
          .hasMessageContaining("bucket 'no-such-bucket' does not exist", "MLFLOW_S3_ENDPOINT_URL");
    }
  }

  @Test
  void aPrefixWithNothingUnderItSaysSoAndHowToCheck() throws Exception {
    S3.bucket("sparse");
    S3.put("sparse", "models/churn/MLmodel", bytes("flavors: {}"));
    try (S3Artifacts artifacts = S3Artifacts.fromEnvironment(S3.env())) {
      assertThatThrownBy(() -> artifacts.download(s3("s3://sparse/models/Churn"), into))
          .isInstanceOf(IOException.class)
          .hasMessageStartingWith("s3://sparse/models/Churn: there are no objects under this key")
          .hasMessageContaining("case-sensitive");
      assertThatThrownBy(() -> artifacts.download(s3("s3://sparse/models/churn/data/"), into))
          .hasMessageContaining("no objects");
    }
    assertThat(into).isEmptyDirectory();
  }

  @Test
  void wrongKeysAreDeniedWithAMessageNamingTheKeyVariables() throws Exception {
    S3.bucket("guarded");
    S3.put("guarded", "m/MLmodel", bytes("flavors: {}"));
    Map<String, String> env = Map.of("AWS_ACCESS_KEY_ID", "AKIAWRONG", "AWS_SECRET_ACCESS_KEY", "wrong",
        "MLFLOW_S3_ENDPOINT_URL", S3.endpoint().toString());
    try (S3Artifacts artifacts = S3Artifacts.fromEnvironment(env)) {
      assertThatThrownBy(() -> artifacts.download(s3("s3://guarded/m"), into))
          .isInstanceOf(IOException.class)
          .hasMessageStartingWith("s3://guarded/m: access denied")
          .hasMessageContaining("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "'guarded'");
    }
    assertThat(into).isEmptyDirectory();
  }

  @Test
  void anUnreachableEndpointNamesTheVariableItCameFrom() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    Map<String, String> env = Map.of("AWS_ACCESS_KEY_ID", S3rverExtension.KEY, "AWS_SECRET_ACCESS_KEY",
        S3rverExtension.KEY, "AWS_ENDPOINT_URL_S3", "http://127.0.0.1:" + closed);
    try (S3Artifacts artifacts = S3Artifacts.fromEnvironment(env)) {
      assertThatThrownBy(() -> artifacts.download(s3("s3://any/model"), into))
          .isInstanceOf(IOException.class)
          .hasMessageStartingWith("s3://any/model: could not reach the S3-compatible store at http://127.0.0.1:"
              + closed + " (AWS_ENDPOINT_URL_S3)")
          .hasMessageContaining("check that AWS_ENDPOINT_URL_S3 names a running store");
    }
  }

  @Test
  void theGenericAwsEndpointVariableWorksWhenNoS3SpecificOneIsSet() throws Exception {
    S3.bucket("generic");
    S3.put("generic", "m/MLmodel", bytes("flavors: {}"));
    Map<String, String> env = Map.of("AWS_ACCESS_KEY_ID", S3rverExtension.KEY, "AWS_SECRET_ACCESS_KEY",
        S3rverExtension.KEY, "AWS_ENDPOINT_URL", S3.endpoint().toString(), "AWS_REGION", "eu-west-1");
    try (S3Artifacts artifacts = S3Artifacts.fromEnvironment(env)) {
      artifacts.download(s3("s3://generic/m"), into);
    }
    assertThat(into.resolve("MLmodel")).hasContent("flavors: {}");
  }

  @Test
  void aCacheFetchFromS3ThatFailsMidwayLeavesNothingBehind() throws Exception {
    S3.bucket("clash");
    // S3 holds both an object "data" and an object under "data/"; a disk cannot: the download fails at whichever
    // of the two comes second, after MLmodel and the first were written
    S3.put("clash", "m/MLmodel", bytes("flavors: {}"));
    S3.put("clash", "m/data", bytes("a file"));
    S3.put("clash", "m/data/model.pth", bytes("weights"));
    ModelCache cache = new ModelCache(into);
    List<String> writtenBeforeFailing = new ArrayList<>();
    try (S3Artifacts artifacts = S3Artifacts.fromEnvironment(S3.env())) {
      assertThatThrownBy(() -> cache.fetch("churn", 4, dir -> {
        try {
          artifacts.download(s3("s3://clash/m"), dir);
        } finally {
          writtenBeforeFailing.addAll(files(dir).keySet());
        }
      }, dir -> { }))
          .isInstanceOf(IOException.class)
          .hasMessageStartingWith("s3://clash/m: the object key 'm/data")
          .hasMessageContaining("as a file and as a folder");
    }
    assertThat(writtenBeforeFailing).hasSize(2).contains("MLmodel")
        .containsAnyOf("data", Path.of("data", "model.pth").toString());
    assertThat(cache.cached("churn", 4)).isEmpty();
    try (Stream<Path> left = Files.list(cache.dir("churn", 4).getParent())) {
      assertThat(left).as("the partial download is removed").isEmpty();
    }
  }

  @Test
  void keysThatWouldLandOutsideTheDownloadDirectoryAreRefused() throws Exception {
    // s3rver keeps objects as files and cannot hold such keys, so the check is exercised directly
    ModelUri.S3 uri = s3("s3://b/m");
    Path root = into.toAbsolutePath().normalize();
    for (String relative : List.of("../escaped", "a/../../escaped", "/etc/passwd", "..", ".")) {
      assertThatThrownBy(() -> S3Artifacts.inside(uri, root, "m/" + relative, relative))
          .as(relative).isInstanceOf(IOException.class).hasMessageContaining("outside the download directory");
    }
    assertThat(S3Artifacts.inside(uri, root, "m/a/./b", "a/./b")).isEqualTo(root.resolve("a").resolve("b"));
  }

  @Test
  void theTestServerIsStoppedWithItsWholeProcessTree() throws Exception {
    S3rverExtension another = new S3rverExtension();
    another.beforeAll(null);
    List<ProcessHandle> tree = new ArrayList<>(another.process().descendants().toList());
    tree.add(another.process());
    another.afterAll(null);
    assertThat(tree).allSatisfy(p -> assertThat(p.isAlive()).as("pid " + p.pid()).isFalse());
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
