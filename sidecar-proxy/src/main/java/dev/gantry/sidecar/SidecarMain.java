package dev.gantry.sidecar;

import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Command-line entry point of the sidecar-proxy. */
public final class SidecarMain {
  private static final Logger LOG = LoggerFactory.getLogger(SidecarMain.class);

  private SidecarMain() {}

  public static void main(String[] args) throws InterruptedException {
    if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
      System.out.println(SidecarConfig.usage());
      return;
    }
    SidecarConfig config;
    try {
      config = SidecarConfig.parse(args, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    Sidecar sidecar;
    try {
      sidecar = Sidecar.start(config);
    } catch (Exception e) {
      LOG.error("event=sidecar_start_failed reason=\"{}\"", e.getMessage(), e);
      System.exit(1);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("event=sidecar_stopping grace_ms={}", config.shutdownGraceMs());
      sidecar.drain(config.shutdownGraceMs());
      sidecar.close();
      LOG.info("event=sidecar_stopped");
      stopped.countDown();
    }, "gantry-shutdown"));
    stopped.await();
  }
}
