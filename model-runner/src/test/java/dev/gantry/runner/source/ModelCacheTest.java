package dev.gantry.runner.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The download cache: only complete, checked downloads are ever served, and a cut-short one is replaced. */
class ModelCacheTest {
  @TempDir
  Path root;

  static void mlmodel(Path dir) throws IOException {
    Files.writeString(dir.resolve("MLmodel"), "flavors: {onnx: {}}\n");
    Files.write(dir.resolve("model.onnx"), new byte[] {1, 2, 3});
  }

  static void hasMlmodel(Path dir) {
    if (!Files.isRegularFile(dir.resolve("MLmodel"))) {
      throw new IllegalStateException("the download has no MLmodel file");
    }
  }

  @Test
  void aCompleteDownloadIsKeptAndServedWithoutDownloadingAgain() throws Exception {
    ModelCache cache = new ModelCache(root);
    AtomicInteger downloads = new AtomicInteger();
    Path dir = cache.fetch("customer-churn-classifier", 2, d -> {
      downloads.incrementAndGet();
      mlmodel(d);
    }, ModelCacheTest::hasMlmodel);
    assertThat(dir).isEqualTo(cache.dir("customer-churn-classifier", 2));
    assertThat(dir.resolve("model.onnx")).exists();
    assertThat(cache.fetch("customer-churn-classifier", 2, d -> downloads.incrementAndGet(), x -> { }))
        .isEqualTo(dir);
    assertThat(downloads).hasValue(1);
    assertThat(cache.newest("customer-churn-classifier")).hasValue(2L);
  }

  @Test
  void aDownloadCutShortOrFailingItsCheckLeavesNothingToServe() throws Exception {
    ModelCache cache = new ModelCache(root);
    assertThatThrownBy(() -> cache.fetch("m", 3, d -> {
      Files.write(d.resolve("model.onnx"), new byte[] {1});
      throw new IOException("connection reset after 1 byte");
    }, ModelCacheTest::hasMlmodel)).hasMessageContaining("connection reset");
    assertThatThrownBy(() -> cache.fetch("m", 3, d -> Files.write(d.resolve("model.onnx"), new byte[] {1}),
        ModelCacheTest::hasMlmodel)).hasMessageContaining("no MLmodel");
    assertThat(cache.cached("m", 3)).isEmpty();
    assertThat(cache.newest("m")).isEmpty();
    try (Stream<Path> left = Files.list(root.resolve("m"))) {
      assertThat(left).as("temporary downloads are removed").isEmpty();
    }
  }

  @Test
  void anEntryWithoutItsMarkerIsNeverServedAndIsReplaced() throws Exception {
    ModelCache cache = new ModelCache(root);
    cache.fetch("m", 1, ModelCacheTest::mlmodel, ModelCacheTest::hasMlmodel);
    // a crash while a version was being moved or written by an older process: files, but no marker
    Path half = cache.dir("m", 2);
    Files.createDirectories(half);
    Files.write(half.resolve("model.onnx"), new byte[] {9});
    assertThat(cache.cached("m", 2)).isEmpty();
    assertThat(cache.newest("m")).as("the registry is down: the newest complete version serves").hasValue(1L);
    Path fixed = cache.fetch("m", 2, ModelCacheTest::mlmodel, ModelCacheTest::hasMlmodel);
    assertThat(Files.readAllBytes(fixed.resolve("model.onnx"))).containsExactly(1, 2, 3);
    assertThat(cache.newest("m")).hasValue(2L);
  }

  @Test
  void namesThatAreNotSafePathsStayInsideTheCache() {
    ModelCache cache = new ModelCache(root);
    assertThat(cache.dir("../../etc/passwd", 1).normalize().startsWith(root)).isTrue();
    assertThat(cache.dir("..", 1).normalize().startsWith(root)).isTrue();
    assertThat(cache.dir("Ads Model 1", 4).getParent().getFileName().toString()).isEqualTo("Ads_Model_1");
  }

  @Test
  void aDownloadFinishedMeanwhileByAnotherProcessIsKeptAndTheSecondCopyDropped() throws IOException {
    ModelCache cache = new ModelCache(root);
    ModelCache other = new ModelCache(root);
    Path dir = cache.fetch("m", 3, into -> {
      // while this download runs, another process sharing the cache completes the same version
      other.fetch("m", 3, theirs -> Files.writeString(theirs.resolve("MLmodel"), "theirs\n"), d -> { });
      Files.writeString(into.resolve("MLmodel"), "ours\n");
    }, d -> { });
    assertThat(dir).isEqualTo(root.resolve("m").resolve("3"));
    assertThat(dir.resolve("MLmodel")).hasContent("theirs");
    try (var left = Files.list(root.resolve("m"))) {
      assertThat(left.map(p -> p.getFileName().toString()).toList()).containsExactly("3");
    }
  }
}
