package dev.gantry.sidecar;

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
  private final io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx(new io.vertx.core.VertxOptions()
      .setEventLoopPoolSize(1));
  private final io.vertx.core.http.HttpClientAgent client = vertx.createHttpClient(
      new io.vertx.core.http.HttpClientOptions().setKeepAlive(true).setConnectTimeout(5000),
      new io.vertx.core.http.PoolOptions().setHttp1MaxSize(64).setMaxWaitQueueSize(-1));
  private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "test-load");
    t.setDaemon(true);
    return t;
  });
  private final Map<String, LongAdder> answers = new ConcurrentHashMap<>();
  /** By variant, the send times (epoch ms) of the requests it answered. */
  private final Map<String, java.util.Queue<Long>> sendTimes = new ConcurrentHashMap<>();
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
    String body = bodies.get((int) (n % bodies.size()));
    long sentAt = System.currentTimeMillis();
    client.request(new io.vertx.core.http.RequestOptions().setMethod(io.vertx.core.http.HttpMethod.POST)
            .setHost("127.0.0.1").setPort(port).setURI(path).setTimeout(30_000)
            .putHeader("content-type", "application/json").putHeader("x-user-id", "load-user-" + n))
        .compose(req -> req.send(body).compose(resp -> resp.body().map(b -> resp)))
        .onComplete(ar -> {
          String variant = ar.succeeded() ? java.util.Objects.requireNonNullElse(
              ar.result().getHeader("x-gantry-variant"), "-") : "-";
          if (ar.succeeded()) {
            sendTimes.computeIfAbsent(variant, k -> new java.util.concurrent.ConcurrentLinkedQueue<>()).add(sentAt);
          }
          String key = variant + ":" + (ar.succeeded() ? ar.result().statusCode() : -1);
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

  /** Requests answered (or failed) so far. */
  public long answered() {
    return answered.sum();
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

  /** How many requests sent at or after {@code epochMs} the variant answered. */
  public long answeredBy(String variant, long epochMs) {
    return sendTimes.getOrDefault(variant, new java.util.concurrent.ConcurrentLinkedQueue<>()).stream()
        .filter(t -> t >= epochMs).count();
  }

  public long sent() {
    return sent.get();
  }

  /** Waits until it stopped sending by itself (its {@code maxSeconds} are over), at most {@code timeout}. */
  public boolean awaitStopped(Duration timeout) throws InterruptedException {
    return ticker.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Stops sending and waits (up to 30 s) for the answers still coming. */
  @Override
  public void close() throws InterruptedException {
    stopSending();
    ticker.awaitTermination(5, TimeUnit.SECONDS);
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> answered.sum() >= sent.get());
    vertx.close().await();
  }
}
