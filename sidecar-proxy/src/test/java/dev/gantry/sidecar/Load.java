package dev.gantry.sidecar;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Open-loop load for tests: requests sent at a fixed rate (whatever the answers take), spread over one or more
 * sidecars, each answer counted by the variant that served it ({@code x-gantry-variant}) and its status (-1: the
 * exchange failed). Bounded: it stops by itself after {@code maxSeconds}.
 */
public final class Load implements AutoCloseable {
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
      .version(HttpClient.Version.HTTP_1_1).build();
  private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "test-load");
    t.setDaemon(true);
    return t;
  });
  private final Map<String, LongAdder> answers = new ConcurrentHashMap<>();
  private final AtomicLong sent = new AtomicLong();
  private final LongAdder answered = new LongAdder();
  private final List<Integer> ports;
  private final String path;
  private final List<String> bodies;

  /**
   * @param ports the sidecars' data ports, used in turn
   * @param bodies request bodies, used in turn
   */
  private Load(List<Integer> ports, String path, List<String> bodies) {
    this.ports = List.copyOf(ports);
    this.path = path;
    this.bodies = List.copyOf(bodies);
  }

  /** Starts sending {@code perSecond} requests a second, for at most {@code maxSeconds}. */
  public static Load start(List<Integer> ports, String path, List<String> bodies, int perSecond, int maxSeconds) {
    Load load = new Load(ports, path, bodies);
    int ticksPerSecond = Math.min(perSecond, 100);
    int perTick = perSecond / ticksPerSecond;
    load.ticker.scheduleAtFixedRate(() -> {
      for (int i = 0; i < perTick; i++) {
        load.send();
      }
    }, 0, 1_000_000 / ticksPerSecond, TimeUnit.MICROSECONDS);
    load.ticker.schedule(load::stopSending, maxSeconds, TimeUnit.SECONDS);
    return load;
  }

  private void send() {
    long n = sent.getAndIncrement();
    int port = ports.get((int) (n % ports.size()));
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(30)).header("content-type", "application/json")
        .header("x-user-id", "load-user-" + n).POST(HttpRequest.BodyPublishers.ofString(
            bodies.get((int) (n % bodies.size())))).build();
    client.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((r, e) -> {
      String key = e != null ? "-:-1" : r.headers().firstValue("x-gantry-variant").orElse("-") + ":" + r.statusCode();
      answers.computeIfAbsent(key, k -> new LongAdder()).increment();
      answered.increment();
    });
  }

  private void stopSending() {
    ticker.shutdown();
  }

  /** Answers so far by {@code variant:status}. */
  public Map<String, Long> answers() {
    Map<String, Long> out = new java.util.TreeMap<>();
    answers.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  /** Answers with this variant and status. */
  public long count(String variant, int status) {
    LongAdder a = answers.get(variant + ":" + status);
    return a == null ? 0 : a.sum();
  }

  /** Answers that were not 200. */
  public long failed() {
    return answers().entrySet().stream().filter(e -> !e.getKey().endsWith(":200")).mapToLong(Map.Entry::getValue)
        .sum();
  }

  /** Answers of a variant that were not 200. */
  public long failed(String variant) {
    return answers().entrySet().stream().filter(e -> e.getKey().startsWith(variant + ":")
        && !e.getKey().endsWith(":200")).mapToLong(Map.Entry::getValue).sum();
  }

  public long sent() {
    return sent.get();
  }

  /** Stops sending and waits (up to 30 s) for the answers still coming. */
  @Override
  public void close() throws InterruptedException {
    stopSending();
    ticker.awaitTermination(5, TimeUnit.SECONDS);
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> answered.sum() >= sent.get());
  }
}
