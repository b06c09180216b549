package dev.gantry.runner.batching;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import dev.gantry.runner.TestModels;
import dev.gantry.runner.engine.LoadedModel;
import dev.gantry.runner.engine.ModelLoader;
import dev.gantry.runner.inference.ErrorKind;
import dev.gantry.runner.inference.InferRequest;
import dev.gantry.runner.inference.InferenceException;
import dev.gantry.runner.inference.Tensor;
import dev.gantry.runner.repository.ModelRepository;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The batcher over the real TorchScript churn MLP. A gate in front of the engine holds the
 * worker while a test fills the queue, so that batch formation is deterministic.
 */
class DynamicBatcherTest {
  private static LoadedModel model;
  private static LoadedModel.Instance instance;
  private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
  private final List<Long> batchRows = new CopyOnWriteArrayList<>();
  private final List<Long> queueNanos = new CopyOnWriteArrayList<>();
  private final CountDownLatch gate = new CountDownLatch(1);
  private final CountDownLatch entered = new CountDownLatch(1);
  private DynamicBatcher batcher;

  @BeforeAll
  static void load() {
    ModelRepository repo = new ModelRepository(TestModels.examples(), Optional.empty());
    var def = repo.read("churn-torchscript");
    model = new ModelLoader().load(def.config(), def.versions().get(1L));
    instance = model.newInstance();
  }

  @AfterAll
  static void unload() {
    instance.close();
    model.close();
  }

  @AfterEach
  void stop() {
    gate.countDown();
    if (batcher != null) {
      batcher.shutdown().join();
    }
    timers.shutdownNow();
  }

  private BatchListener recording() {
    return new BatchListener() {
      @Override
      public void dequeued(long nanos) {
        queueNanos.add(nanos);
      }

      @Override
      public void executed(int requests, long rows, long computeNanos) {
        batchRows.add(rows);
      }
    };
  }

  /** The real engine behind a gate that holds the first batch until the test opens it. */
  private BatchExecutor gated() {
    return inputs -> {
      entered.countDown();
      try {
        gate.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return instance.run(inputs);
    };
  }

  private DynamicBatcher start(BatchPolicy policy, BatchExecutor... executors) {
    batcher = new DynamicBatcher("test", policy, List.of(executors), timers, recording());
    return batcher;
  }

  private static InferRequest rows(int n, float seed) {
    float[] values = new float[n * 3];
    for (int i = 0; i < n; i++) {
      values[i * 3] = seed + i;
      values[i * 3 + 1] = 20 + 3 * seed + i;
      values[i * 3 + 2] = 100 * (seed + i + 1);
    }
    return new InferRequest("", List.of(Tensor.ofFloats("input", new long[] {n, 3}, values)), Set.of(), 0);
  }

  private static InferRequest withDeadline(InferRequest r, Duration d) {
    return new InferRequest(r.id(), r.inputs(), r.requestedOutputs(), System.nanoTime() + d.toNanos());
  }

  /** Occupies the worker with a batch of {@code n} rows that waits at the gate. */
  private void holdWorker(DynamicBatcher b, int n) throws InterruptedException {
    b.submit(rows(n, 0));
    assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void queuedRequestsMergeUpToMaxBatchSizeWithoutSplittingARequest() throws Exception {
    DynamicBatcher b = start(new BatchPolicy(true, 8, TimeUnit.MILLISECONDS.toNanos(500), List.of(), 100), gated());
    holdWorker(b, 8);
    List<CompletableFuture<List<Tensor>>> futures = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      futures.add(b.submit(rows(3, i)));
    }
    assertThat(b.queueDepth()).isEqualTo(5);
    gate.countDown();
    CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    // 8 (held) then 3+3 = 6 (a third request would make 9 > 8), 6, then 3: what queued while the
    // instance was busy goes at once, no other instance being busy to wait for
    assertThat(batchRows).containsExactly(8L, 6L, 6L, 3L);
    for (CompletableFuture<List<Tensor>> f : futures) {
      assertThat(f.get().get(0).shape()).containsExactly(3, 2);
    }
  }

  @Test
  void withTheAlwaysPolicyALoneRequestIsDispatchedOnceTheDelayHasPassed() throws Exception {
    long delay = TimeUnit.MILLISECONDS.toNanos(80);
    DynamicBatcher b = start(new BatchPolicy(true, 32, delay, List.of(), 100, QueueDelayPolicy.ALWAYS), instance::run);
    List<Tensor> out = b.submit(rows(2, 1)).get(30, TimeUnit.SECONDS);
    assertThat(out.get(0).shape()).containsExactly(2, 2);
    assertThat(batchRows).containsExactly(2L);
    // it waited for company no less than the delay (a lower bound: the batch never filled)
    assertThat(queueNanos.get(0)).isGreaterThanOrEqualTo(delay);
  }

  @Test
  void reachingTheLargestPreferredSizeDispatchesAtOnceAndCutsToIt() throws Exception {
    // always: the fifth request below must wait for company although no other instance is busy
    DynamicBatcher b = start(new BatchPolicy(true, 16, TimeUnit.SECONDS.toNanos(30), List.of(2, 4), 100,
        QueueDelayPolicy.ALWAYS), gated());
    holdWorker(b, 4);
    List<CompletableFuture<List<Tensor>>> futures = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      futures.add(b.submit(rows(1, i)));
    }
    gate.countDown();
    // the 30 s delay would be hit otherwise: 4 rows is preferred, so 4 go at once; the fifth waits
    CompletableFuture.allOf(futures.subList(0, 4).toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
    assertThat(batchRows).containsExactly(4L, 4L);
    assertThat(futures.get(4)).isNotDone();
  }

  /**
   * Two instances that echo their input, the first batch held at the gate on whichever runs it,
   * with the default policy and a delay of a minute.
   */
  private DynamicBatcher startTwoHoldingTheFirstBatch(int maxBatchSize) {
    AtomicBoolean held = new AtomicBoolean();
    BatchExecutor executor = inputs -> {
      if (held.compareAndSet(false, true)) {
        gated().run(inputs);
      }
      return List.of(inputs.get(0));
    };
    return start(new BatchPolicy(true, maxBatchSize, TimeUnit.SECONDS.toNanos(60), List.of(), 100), executor, executor);
  }

  /**
   * Queues three one-row requests and shows that they stay queued (the batch holds four rows and the
   * delay is far off), then a fourth fills the batch and all four run as one.
   */
  private List<CompletableFuture<List<Tensor>>> threeWaitUntilAFourthFillsTheBatchOfFour(DynamicBatcher b)
      throws Exception {
    List<CompletableFuture<List<Tensor>>> futures = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      futures.add(b.submit(rows(1, i)));
    }
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(10))
        .until(() -> b.queueDepth() == 3 && batchRows.isEmpty());
    futures.add(b.submit(rows(1, 3)));
    CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    assertThat(batchRows).containsExactly(4L);
    return futures;
  }

  /** Queues a one-row request while the gate holds a batch, shows that it waits, then opens the gate. */
  private CompletableFuture<List<Tensor>> waitsUntilTheGateOpens(DynamicBatcher b) {
    CompletableFuture<List<Tensor>> waiting = b.submit(rows(1, 1));
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(10)).until(() -> !waiting.isDone());
    gate.countDown();
    return waiting;
  }

  @Test
  void byDefaultALoneRequestIsDispatchedAtOnceWithoutWaitingForTheDelay() throws Exception {
    DynamicBatcher b = start(new BatchPolicy(true, 32, TimeUnit.SECONDS.toNanos(60), List.of(), 100), instance::run);
    // the delay is a minute: answering well within it means the request did not wait for company
    assertThat(b.submit(rows(2, 1)).get(30, TimeUnit.SECONDS).get(0).shape()).containsExactly(2, 2);
    assertThat(b.submit(rows(1, 2)).get(30, TimeUnit.SECONDS).get(0).shape()).containsExactly(1, 2);
    assertThat(batchRows).containsExactly(2L, 1L);
  }

  @Test
  void byDefaultALoneRequestIsDispatchedAtOnceWhileEveryOtherInstanceIsIdle() throws Exception {
    BatchExecutor echo = inputs -> List.of(inputs.get(0));
    DynamicBatcher b = start(new BatchPolicy(true, 32, TimeUnit.SECONDS.toNanos(60), List.of(), 100), echo, echo);
    assertThat(b.submit(rows(2, 1)).get(30, TimeUnit.SECONDS).get(0).shape()).containsExactly(2, 3);
    assertThat(b.submit(rows(3, 2)).get(30, TimeUnit.SECONDS).get(0).shape()).containsExactly(3, 3);
    assertThat(batchRows).containsExactly(2L, 3L);
  }

  @Test
  void whileAnotherInstanceIsBusyAFreeOneWaitsForMoreAndMergesThemIntoOneBatch() throws Exception {
    DynamicBatcher b = startTwoHoldingTheFirstBatch(4);
    holdWorker(b, 1);
    // one instance is busy: the free one keeps the requests for company instead of running them
    // alone, and runs the full batch while the other instance is still held
    List<CompletableFuture<List<Tensor>>> futures = threeWaitUntilAFourthFillsTheBatchOfFour(b);
    for (int i = 0; i < 4; i++) {
      assertThat(futures.get(i).get().get(0).asFloats()).containsExactly(rows(1, i).inputs().get(0).asFloats());
    }
  }

  @Test
  void aFreeInstanceWaitingForMoreDispatchesOnceNoOtherInstanceIsBusy() throws Exception {
    DynamicBatcher b = startTwoHoldingTheFirstBatch(8);
    holdWorker(b, 2);
    CompletableFuture<List<Tensor>> waiting = waitsUntilTheGateOpens(b);
    // the busy instance finished: nobody is left to wait for, so the request goes long before its minute
    assertThat(waiting.get(30, TimeUnit.SECONDS).get(0).shape()).containsExactly(1, 3);
    assertThat(batchRows).containsExactly(2L, 1L);
  }

  @Test
  void aFreeInstanceWaitingForMoreDispatchesOnceTheBusyOneHasStoppedForGood() throws Exception {
    AtomicBoolean broke = new AtomicBoolean();
    BatchExecutor firstBreaks = inputs -> {
      if (broke.compareAndSet(false, true)) {
        gated().run(inputs);
        throw new InternalError("engine state corrupted (simulated)");
      }
      return List.of(inputs.get(0));
    };
    DynamicBatcher b = start(new BatchPolicy(true, 8, TimeUnit.SECONDS.toNanos(60), List.of(), 100),
        firstBreaks, firstBreaks);
    CompletableFuture<List<Tensor>> breaking = b.submit(rows(2, 0));
    assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<List<Tensor>> waiting = waitsUntilTheGateOpens(b);
    assertThat(InferenceException.of(breaking.handle((v, e) -> e).get(30, TimeUnit.SECONDS)).kind())
        .isEqualTo(ErrorKind.INTERNAL);
    // its worker stopped instead of coming back for the queue: the one left runs the request now
    assertThat(waiting.get(30, TimeUnit.SECONDS).get(0).shape()).containsExactly(1, 3);
    assertThat(b.canServe()).isTrue();
  }

  @Test
  void theAlwaysPolicyWaitsForTheDelayOrAFullBatchEvenWithNoInstanceBusy() throws Exception {
    BatchExecutor echo = inputs -> List.of(inputs.get(0));
    DynamicBatcher b = start(new BatchPolicy(true, 4, TimeUnit.SECONDS.toNanos(60), List.of(), 100,
        QueueDelayPolicy.ALWAYS), echo, echo);
    // both instances idle, and still the requests wait for company
    threeWaitUntilAFourthFillsTheBatchOfFour(b);
  }

  @Test
  void requestsWithDifferentTrailingShapesAreNotMerged() throws Exception {
    BatchExecutor echo = inputs -> List.of(inputs.get(0));
    DynamicBatcher b = start(new BatchPolicy(true, 8, TimeUnit.MILLISECONDS.toNanos(50), List.of(), 100), echo);
    CompletableFuture<List<Tensor>> a = b.submit(new InferRequest("", List.of(
        Tensor.ofFloats("x", new long[] {1, 2}, 1, 2)), Set.of(), 0));
    CompletableFuture<List<Tensor>> c = b.submit(new InferRequest("", List.of(
        Tensor.ofFloats("x", new long[] {1, 3}, 1, 2, 3)), Set.of(), 0));
    assertThat(a.get(30, TimeUnit.SECONDS).get(0).shape()).containsExactly(1, 2);
    assertThat(c.get(30, TimeUnit.SECONDS).get(0).shape()).containsExactly(1, 3);
    assertThat(batchRows).containsExactly(1L, 1L);
  }

  @Test
  void aFullQueueRefusesAtOnceWithResourceExhausted() throws Exception {
    DynamicBatcher b = start(new BatchPolicy(false, 0, 0, List.of(), 2), gated());
    holdWorker(b, 1);
    CompletableFuture<List<Tensor>> first = b.submit(rows(1, 1));
    CompletableFuture<List<Tensor>> second = b.submit(rows(1, 2));
    CompletableFuture<List<Tensor>> third = b.submit(rows(1, 3));
    assertThat(third).isCompletedExceptionally();
    assertThat(InferenceException.of(third.handle((v, e) -> e).join()).kind()).isEqualTo(ErrorKind.RESOURCE_EXHAUSTED);
    assertThat(InferenceException.of(third.handle((v, e) -> e).join()).getMessage()).contains("full queue (2");
    gate.countDown();
    assertThat(first.get(30, TimeUnit.SECONDS)).isNotEmpty();
    assertThat(second.get(30, TimeUnit.SECONDS)).isNotEmpty();
  }

  @Test
  void aRequestWhoseDeadlinePassesInTheQueueIsAnsweredAndNeverRun() throws Exception {
    AtomicLong runs = new AtomicLong();
    BatchExecutor counting = inputs -> {
      runs.incrementAndGet();
      return gated().run(inputs);
    };
    DynamicBatcher b = start(new BatchPolicy(false, 0, 0, List.of(), 10), counting);
    holdWorker(b, 1);
    CompletableFuture<List<Tensor>> late = b.submit(withDeadline(rows(1, 1), Duration.ofMillis(50)));
    Throwable error = late.handle((v, e) -> e).get(30, TimeUnit.SECONDS);
    assertThat(InferenceException.of(error).kind()).isEqualTo(ErrorKind.DEADLINE_EXCEEDED);
    assertThat(error).hasMessageContaining("was not run");
    assertThat(b.queueDepth()).isZero();
    gate.countDown();
    await().atMost(Duration.ofSeconds(30)).until(() -> batchRows.size() == 1);
    assertThat(runs.get()).isEqualTo(1);
  }

  @Test
  void sixtyFourConcurrentCallersGetTheirUnbatchedAnswers() throws Exception {
    LoadedModel.Instance second = model.newInstance();
    LoadedModel.Instance reference = model.newInstance();
    DynamicBatcher b = start(new BatchPolicy(true, 64, TimeUnit.MILLISECONDS.toNanos(20), List.of(), 1000),
        instance::run, second::run);
    int callers = 64;
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<CompletableFuture<float[][]>> answers = new ArrayList<>();
      for (int i = 0; i < callers; i++) {
        int caller = i;
        answers.add(CompletableFuture.supplyAsync(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
          InferRequest req = rows(1 + caller % 3, caller * 0.7f);
          float[] batched = b.submit(req).join().get(0).asFloats();
          float[] alone;
          synchronized (DynamicBatcherTest.class) {
            // the reference answer comes from a third, unshared instance
            alone = reference.run(req.inputs()).get(0).asFloats();
          }
          return new float[][] {batched, alone};
        }, pool));
      }
      go.countDown();
      for (CompletableFuture<float[][]> a : answers) {
        float[][] pair = a.get(60, TimeUnit.SECONDS);
        assertThat(pair[0]).hasSameSizeAs(pair[1]);
        for (int i = 0; i < pair[0].length; i++) {
          assertThat(pair[0][i]).isCloseTo(pair[1][i], within(1e-5f));
        }
      }
      assertThat(batchRows.stream().mapToLong(Long::longValue).sum())
          .isEqualTo(java.util.stream.IntStream.range(0, callers).map(i -> 1 + i % 3).sum());
      assertThat(batchRows).as("some requests were merged").anyMatch(r -> r > 3);
    } finally {
      pool.shutdownNow();
      batcher.shutdown().join();
      second.close();
      reference.close();
    }
  }

  @Test
  void aWorkerSurvivesAnOutOfMemoryErrorAndAnswersItsBatch() throws Exception {
    AtomicLong calls = new AtomicLong();
    BatchExecutor firstRunOutOfMemory = inputs -> {
      if (calls.incrementAndGet() == 1) {
        throw new OutOfMemoryError("Java heap space (simulated)");
      }
      return instance.run(inputs);
    };
    DynamicBatcher b = start(BatchPolicy.unbatched(10), firstRunOutOfMemory);
    Throwable error = b.submit(rows(1, 1)).handle((v, e) -> e).get(30, TimeUnit.SECONDS);
    assertThat(InferenceException.of(error).kind()).isEqualTo(ErrorKind.INTERNAL);
    assertThat(error).hasMessageContaining("OutOfMemoryError");
    assertThat(b.submit(rows(1, 2)).get(30, TimeUnit.SECONDS)).isNotEmpty();
    assertThat(b.canServe()).isTrue();
  }

  @Test
  void anInstanceThatCannotGoOnAnswersItsBatchAndItsQueueAndRefusesNewWork() throws Exception {
    BatchExecutor breaks = inputs -> {
      gated().run(inputs);
      throw new InternalError("engine state corrupted (simulated)");
    };
    DynamicBatcher b = start(BatchPolicy.unbatched(10), breaks);
    CompletableFuture<List<Tensor>> running = b.submit(rows(1, 0));
    assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<List<Tensor>> queued = b.submit(rows(1, 1));
    gate.countDown();
    Throwable ranError = running.handle((v, e) -> e).get(30, TimeUnit.SECONDS);
    assertThat(InferenceException.of(ranError).kind()).isEqualTo(ErrorKind.INTERNAL);
    assertThat(ranError).hasMessageContaining("InternalError");
    Throwable queuedError = queued.handle((v, e) -> e).get(30, TimeUnit.SECONDS);
    assertThat(InferenceException.of(queuedError).kind()).isEqualTo(ErrorKind.UNAVAILABLE);
    assertThat(queuedError).hasMessageContaining("cannot serve");
    assertThat(b.canServe()).isFalse();
    CompletableFuture<List<Tensor>> later = b.submit(rows(1, 2));
    assertThat(later).isCompletedExceptionally();
    assertThat(InferenceException.of(later.handle((v, e) -> e).join()).kind()).isEqualTo(ErrorKind.UNAVAILABLE);
    b.shutdown().get(30, TimeUnit.SECONDS);
  }

  @Test
  void aCancelledRequestLeavesTheQueueAndIsNeverRun() throws Exception {
    DynamicBatcher b = start(BatchPolicy.unbatched(2), gated());
    holdWorker(b, 1);
    CompletableFuture<List<Tensor>> cancelled = b.submit(rows(1, 1));
    CompletableFuture<List<Tensor>> kept = b.submit(rows(2, 2));
    assertThat(b.queueDepth()).isEqualTo(2);
    cancelled.cancel(false);
    assertThat(b.queueDepth()).isEqualTo(1);
    // its queue slot is free again
    CompletableFuture<List<Tensor>> another = b.submit(rows(3, 3));
    gate.countDown();
    assertThat(kept.get(30, TimeUnit.SECONDS).get(0).shape()).containsExactly(2, 2);
    assertThat(another.get(30, TimeUnit.SECONDS).get(0).shape()).containsExactly(3, 2);
    assertThat(batchRows).containsExactly(1L, 2L, 3L);
  }

  @Test
  void theDeadlineTimerOfARequestIsGoneOnceTheRequestIsTaken() throws Exception {
    CountDownLatch ran = new CountDownLatch(1);
    // a timer service slow to schedule: a worker can take the request while its timer is being set
    ScheduledThreadPoolExecutor slowTimers = new ScheduledThreadPoolExecutor(1) {
      @Override
      public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        try {
          ran.await(300, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return super.schedule(command, delay, unit);
      }
    };
    slowTimers.setRemoveOnCancelPolicy(true);
    BatchExecutor counting = inputs -> {
      List<Tensor> out = instance.run(inputs);
      ran.countDown();
      return out;
    };
    batcher = new DynamicBatcher("test", BatchPolicy.unbatched(10), List.of(counting), slowTimers, recording());
    try {
      assertThat(batcher.submit(withDeadline(rows(1, 1), Duration.ofHours(1))).get(30, TimeUnit.SECONDS))
          .isNotEmpty();
      // a timer left behind would hold the request until its deadline, an hour from now
      await().atMost(Duration.ofSeconds(10)).until(() -> slowTimers.getQueue().isEmpty());
    } finally {
      slowTimers.shutdownNow();
    }
  }

  @Test
  void shutdownRunsWhatIsQueuedThenRefusesNewWork() throws Exception {
    DynamicBatcher b = start(new BatchPolicy(false, 0, 0, List.of(), 10), gated());
    holdWorker(b, 1);
    CompletableFuture<List<Tensor>> queued = b.submit(rows(1, 1));
    CompletableFuture<Void> stopped = b.shutdown();
    CompletableFuture<List<Tensor>> refused = b.submit(rows(1, 2));
    assertThat(InferenceException.of(refused.handle((v, e) -> e).join()).kind()).isEqualTo(ErrorKind.UNAVAILABLE);
    assertThat(stopped).isNotDone();
    gate.countDown();
    assertThat(queued.get(30, TimeUnit.SECONDS)).isNotEmpty();
    stopped.get(30, TimeUnit.SECONDS);
  }

  private static Thread worker() {
    return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("gantry-batcher-test-0"))
        .findFirst().orElseThrow();
  }

  private static float[] probabilities(List<Tensor> outputs) {
    return outputs.get(0).asFloats();
  }

  @Test
  void anIdleWorkerSpinsForItsSpinThenParksAndAnswersTheSameEitherWay() throws Exception {
    float[] expected = probabilities(instance.run(rows(1, 1).inputs()));
    batcher = new DynamicBatcher("test", BatchPolicy.unbatched(10), List.of(instance::run), timers, recording(),
        TimeUnit.MILLISECONDS.toNanos(300));
    assertThat(probabilities(batcher.submit(rows(1, 1)).get(30, TimeUnit.SECONDS))).containsExactly(expected);
    // most likely taken while the worker spins (it has not parked since the first)
    assertThat(probabilities(batcher.submit(rows(1, 1)).get(30, TimeUnit.SECONDS))).containsExactly(expected);
    // the spin is bounded: the worker parks (WAITING) once it is over, and a request still wakes it
    await().atMost(Duration.ofSeconds(10)).until(() -> worker().getState() == Thread.State.WAITING);
    assertThat(probabilities(batcher.submit(rows(1, 1)).get(30, TimeUnit.SECONDS))).containsExactly(expected);
  }

  @Test
  void shutdownEndsASpinAtOnce() throws Exception {
    batcher = new DynamicBatcher("test", BatchPolicy.unbatched(10), List.of(instance::run), timers, recording(),
        TimeUnit.MINUTES.toNanos(10));
    assertThat(batcher.submit(rows(1, 1)).get(30, TimeUnit.SECONDS)).isNotEmpty();
    assertThat(worker().getState()).isEqualTo(Thread.State.RUNNABLE);
    batcher.shutdown().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aNegativeSpinIsRefused() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new DynamicBatcher("test", BatchPolicy.unbatched(10),
        List.of(instance::run), timers, recording(), -1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("idleSpinNanos must be 0 or more");
  }
}
