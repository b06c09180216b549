package dev.gantry.sidecar;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Prometheus (Debian's {@code prometheus} package, which {@code .ci/run} installs) on a loopback port,
 * scraping every second what the given {@code scrape_configs} name, with its data in a test's directory. A test that
 * needs it is skipped, saying why, where the package is not installed.
 */
public final class PrometheusServer implements AutoCloseable {
  public static final Path BINARY = Path.of("/usr/bin/prometheus");
  private final Process process;
  private final int port;

  private PrometheusServer(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** Starts Prometheus with {@code scrapeConfigs} (the YAML list under {@code scrape_configs:}) and waits until ready. */
  public static PrometheusServer start(Path dir, String scrapeConfigs) throws IOException {
    Assumptions.assumeTrue(Files.isExecutable(BINARY), "Debian's prometheus package is not installed (.ci/run"
        + " installs it)");
    int port = JavaProcess.freePort();
    Files.writeString(dir.resolve("prometheus.yml"), "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        + "scrape_configs:\n" + scrapeConfigs.stripIndent().indent(2));
    Process p = new ProcessBuilder(BINARY.toString(), "--config.file=" + dir.resolve("prometheus.yml"),
        "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port)
        .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
    PrometheusServer server = new PrometheusServer(p, port);
    Http http = server.http();
    await().atMost(Duration.ofSeconds(30)).until(() -> http.tryGet("/-/ready").status() == 200);
    return server;
  }

  public int port() {
    return port;
  }

  public Http http() {
    return new Http(port);
  }

  /** Stops it (SIGTERM) and waits; true when it exited within the time. */
  public boolean stop() throws InterruptedException {
    process.destroy();
    return process.waitFor(20, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    if (!stop()) {
      process.destroyForcibly();
    }
  }
}
