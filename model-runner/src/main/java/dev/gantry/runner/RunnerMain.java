package dev.gantry.runner;

import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Command-line entry point of the model-runner. */
public final class RunnerMain {
  private static final Logger LOG = LoggerFactory.getLogger(RunnerMain.class);

  private RunnerMain() {}

  public static void main(String[] args) throws InterruptedException {
    if (Arrays.asList(args).contains("--help")) {
      System.out.print(RunnerOptions.usage());
      return;
    }
    // Nothing may be downloaded at run time: engines come from the classpath.
    System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
    boolean fetchOnly = Arrays.asList(args).contains("--fetch-only");
    RunnerOptions options;
    try {
      options = RunnerOptions.parse(Arrays.stream(args).filter(a -> !a.equals("--fetch-only"))
          .toArray(String[]::new), System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    if (fetchOnly) {
      java.util.List<String> failed = ModelRunner.fetchOnly(options, System.getenv());
      failed.forEach(f -> System.err.println("not fetched: " + f));
      System.exit(failed.isEmpty() ? 0 : 1);
      return;
    }
    ModelRunner runner;
    try {
      runner = ModelRunner.start(options);
    } catch (RuntimeException e) {
      LOG.error("event=runner_start_failed reason=\"{}\"", e.getMessage(), e);
      System.exit(1);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    // SIGTERM: not ready at once, in-flight requests finish within --shutdown-grace-ms, then exit
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("event=runner_stopping grace_ms={}", options.shutdownGraceMs());
      runner.close();
      LOG.info("event=runner_stopped");
      stopped.countDown();
    }, "gantry-shutdown"));
    stopped.await();
  }
}
