package dev.gantry.runner.batching;

import static java.util.Objects.requireNonNull;

import dev.gantry.runner.inference.ErrorKind;
import dev.gantry.runner.inference.InferRequest;
import dev.gantry.runner.inference.InferenceException;
import dev.gantry.runner.inference.Shapes;
import dev.gantry.runner.inference.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One model version's request queue and its worker threads, one per model instance.
 *
 * <p>Requests wait in a bounded FIFO queue. A free worker takes the oldest request and, when
 * merging is on, the compatible requests queued behind it (the same trailing shapes), up to
 * {@link BatchPolicy#dispatchRows()} rows; no batch exceeds {@code maxBatchSize} rows and requests
 * are never split. Whether it dispatches at once or first waits up to the policy's delay for more
 * is the policy's {@link QueueDelayPolicy}: by default it waits only while another worker is
 * running a batch, so a lone request never waits and batches form from what queued while the
 * instances were busy; with {@link QueueDelayPolicy#ALWAYS} it waits whenever the batch is short.
 * The merged inputs run once and each request gets its own rows of the outputs back. A full queue
 * refuses at once (RESOURCE_EXHAUSTED); a request whose deadline passes while it waits is answered
 * DEADLINE_EXCEEDED and never runs, and a request its caller cancels leaves the queue at once.
 * When a merged batch fails, its requests are run again one by one, so that one bad request cannot
 * fail its neighbours.
 *
 * <p>A worker that finds the queue empty first spins for up to its idle spin (a bounded busy wait,
 * {@link Thread#onSpinWait()}) before it parks: a request that comes within that time is taken
 * without the thread wake-up that parking costs (tens of microseconds on a virtual machine), at the
 * price of that much CPU after every batch. Zero parks at once.
 *
 * <p>A worker survives whatever its batch throws and every request is answered. An {@link Error}
 * other than running out of memory or stack means the worker's instance cannot go on: the worker
 * answers its batch and stops, and when no worker is left the batcher answers what is queued and
 * refuses new work with UNAVAILABLE ({@link #canServe()} turns false).
 */
public final class DynamicBatcher {
  private static final Logger LOG = LoggerFactory.getLogger(DynamicBatcher.class);

  private final String label;
  private final BatchPolicy policy;
  private final ScheduledExecutorService timers;
  private final BatchListener listener;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final List<Thread> workers = new ArrayList<>();
  private final AtomicInteger running = new AtomicInteger();
  /** Workers whose instance has not failed. */
  private final AtomicInteger healthy = new AtomicInteger();
  /** Workers running a batch now; guarded by {@link #lock}. */
  private int busy;
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private final long idleSpinNanos;
  /** Requests submitted so far; written under {@link #lock}, read without it by spinning workers. */
  private volatile long submitted;
  private volatile boolean closed;
  /** Why no instance can run batches any more; null while one can. */
  private volatile String failure;

  /**
   * Starts one worker thread per executor.
   *
   * @param label names the threads and the error messages ("model 'x' version 1")
   * @param timers runs deadline timers; shared, never blocked on
   */
  public DynamicBatcher(String label, BatchPolicy policy, List<BatchExecutor> executors,
      ScheduledExecutorService timers, BatchListener listener) {
    this(label, policy, executors, timers, listener, 0);
  }

  /**
   * Starts one worker thread per executor.
   *
   * @param label names the threads and the error messages ("model 'x' version 1")
   * @param timers runs deadline timers; shared, never blocked on
   * @param idleSpinNanos how long a worker that finds the queue empty spins before it parks; 0 parks at once
   */
  public DynamicBatcher(String label, BatchPolicy policy, List<BatchExecutor> executors,
      ScheduledExecutorService timers, BatchListener listener, long idleSpinNanos) {
    if (idleSpinNanos < 0) {
      throw new IllegalArgumentException("idleSpinNanos must be 0 or more, got " + idleSpinNanos);
    }
    this.idleSpinNanos = idleSpinNanos;
    this.label = requireNonNull(label, "label");
    this.policy = requireNonNull(policy, "policy");
    this.timers = requireNonNull(timers, "timers");
    this.listener = requireNonNull(listener, "listener");
    if (executors.isEmpty()) {
      throw new IllegalArgumentException("at least one executor is needed");
    }
    running.set(executors.size());
    healthy.set(executors.size());
    for (int i = 0; i < executors.size(); i++) {
      BatchExecutor executor = executors.get(i);
      Thread t = new Thread(() -> work(executor), "gantry-batcher-" + label.replaceAll("[^A-Za-z0-9.-]+", "-") + "-" + i);
      t.setDaemon(true);
      workers.add(t);
    }
    workers.forEach(Thread::start);
  }

  /**
   * Queues a validated request. Its deadline timer is set before the request can be taken, and is
   * cancelled once it is taken or answered.
   *
   * @return the request's outputs (every output, its rows only); fails with an
   *     {@link InferenceException}; cancelling it takes the request out of the queue
   */
  public CompletableFuture<List<Tensor>> submit(InferRequest request) {
    Pending p = new Pending(request);
    lock.lock();
    try {
      if (closed || failure != null) {
        p.future.completeExceptionally(InferenceException.unavailable(
            failure != null ? label + " cannot serve: " + failure : label + " is unloading"));
        return p.future;
      }
      if (queue.size() >= policy.maxQueueSize()) {
        p.future.completeExceptionally(new InferenceException(ErrorKind.RESOURCE_EXHAUSTED,
            label + " has a full queue (" + policy.maxQueueSize() + " requests waiting); retry later"));
        return p.future;
      }
      if (request.hasDeadline()) {
        long delay = request.deadlineNanos() - System.nanoTime();
        if (delay <= 0) {
          p.future.completeExceptionally(new InferenceException(ErrorKind.DEADLINE_EXCEEDED,
              "deadline passed before the request was queued for " + label + "; the request was not run"));
          return p.future;
        }
        // expire() takes this lock, so a timer that fires at once waits until the request is queued
        p.timer = timers.schedule(() -> expire(p), delay, TimeUnit.NANOSECONDS);
      }
      queue.addLast(p);
      submitted++;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    p.future.whenComplete((v, e) -> answered(p));
    return p.future;
  }

  /** Whether an instance is left to run batches. */
  public boolean canServe() {
    return failure == null;
  }

  /** Why no instance can run batches, when {@link #canServe()} is false. */
  public Optional<String> failure() {
    return Optional.ofNullable(failure);
  }

  /** Requests waiting now. */
  public int queueDepth() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Refuses new requests, lets the queued ones run, then stops the workers.
   *
   * @return completes when every worker has finished
   */
  public CompletableFuture<Void> shutdown() {
    lock.lock();
    try {
      closed = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    return stopped;
  }

  private void expire(Pending p) {
    if (remove(p)) {
      p.future.completeExceptionally(new InferenceException(ErrorKind.DEADLINE_EXCEEDED,
          "deadline passed after " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - p.enqueuedAt)
              + " ms in the queue of " + label + "; the request was not run"));
    }
  }

  /** A request was answered, or cancelled by its caller: it leaves the queue and its timer goes. */
  private void answered(Pending p) {
    p.cancelTimer();
    if (p.future.isCancelled()) {
      remove(p);
    }
  }

  private boolean remove(Pending p) {
    lock.lock();
    try {
      return queue.remove(p);
    } finally {
      lock.unlock();
    }
  }

  private void work(BatchExecutor executor) {
    Error fatal = null;
    try {
      while (fatal == null) {
        List<Pending> batch = nextBatch();
        if (batch == null) {
          return;
        }
        try {
          fatal = executeAnswered(executor, batch);
        } finally {
          batchDone();
        }
      }
      LOG.error("event=batcher_instance_failed batcher=\"{}\" reason=\"{}\"", label, fatal, fatal);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      workerStopped();
    }
  }

  private void workerStopped() {
    if (running.decrementAndGet() == 0) {
      failRemaining();
      stopped.complete(null);
    }
  }

  private void failRemaining() {
    List<Pending> left;
    lock.lock();
    try {
      left = new ArrayList<>(queue);
      queue.clear();
    } finally {
      lock.unlock();
    }
    String why = failure != null ? label + " cannot serve: " + failure : label + " stopped";
    for (Pending p : left) {
      p.future.completeExceptionally(InferenceException.unavailable(why));
    }
  }

  /** Blocks until a batch is ready; null when closed and drained. */
  private List<Pending> nextBatch() throws InterruptedException {
    lock.lock();
    try {
      while (true) {
        while (queue.isEmpty()) {
          if (closed) {
            return null;
          }
          if (idleSpinNanos > 0) {
            long seen = submitted;
            lock.unlock();
            try {
              spinWhileIdle(seen);
            } finally {
              lock.lock();
            }
            if (!queue.isEmpty() || closed) {
              continue;
            }
          }
          changed.await();
        }
        if (!policy.merge()) {
          busy++;
          return List.of(queue.pollFirst());
        }
        Pending head = queue.peekFirst();
        long waitUntil = head.enqueuedAt + policy.maxQueueDelayNanos();
        long remaining = waitUntil - System.nanoTime();
        if (closed || remaining <= 0 || !waitsForMore() || compatibleRows(head) >= policy.dispatchRows()) {
          busy++;
          return takeBatch(head);
        }
        // woken by a new request, by the last busy worker finishing (batchDone) or by the delay's end
        changed.awaitNanos(remaining);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Spins, without the lock, until a request is submitted after {@code seen}, the batcher closes or the spin is over. */
  private void spinWhileIdle(long seen) {
    long end = System.nanoTime() + idleSpinNanos;
    while (submitted == seen && !closed && System.nanoTime() - end < 0) {
      Thread.onSpinWait();
    }
  }

  /** Whether a free worker whose batch is short waits for more requests; called under the lock. */
  private boolean waitsForMore() {
    return policy.queueDelayPolicy() == QueueDelayPolicy.ALWAYS || busy > 0;
  }

  /** A worker finished its batch; when no other is busy, a worker waiting for more dispatches now. */
  private void batchDone() {
    lock.lock();
    try {
      if (--busy == 0) {
        changed.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Rows of the head plus the compatible requests right behind it that fit in one batch. */
  private long compatibleRows(Pending head) {
    long rows = 0;
    for (Pending p : queue) {
      if (!p.compatibleWith(head) || rows + p.rows > policy.maxBatchSize()) {
        break;
      }
      rows += p.rows;
    }
    return rows;
  }

  private List<Pending> takeBatch(Pending head) {
    List<Pending> batch = new ArrayList<>();
    long rows = 0;
    for (Iterator<Pending> it = queue.iterator(); it.hasNext(); ) {
      Pending p = it.next();
      if (!p.compatibleWith(head) || rows + p.rows > policy.maxBatchSize()) {
        break;
      }
      batch.add(p);
      rows += p.rows;
    }
    int keep = preferredCut(batch);
    batch = new ArrayList<>(batch.subList(0, keep));
    for (Pending p : batch) {
      queue.pollFirst();
      p.cancelTimer();
    }
    return batch;
  }

  /** The longest prefix whose rows are a preferred size, or the whole batch when none is. */
  private int preferredCut(List<Pending> batch) {
    if (policy.preferredBatchSizes().isEmpty()) {
      return batch.size();
    }
    long rows = 0;
    int best = -1;
    for (int i = 0; i < batch.size(); i++) {
      rows += batch.get(i).rows;
      if (policy.preferredBatchSizes().contains((int) rows)) {
        best = i + 1;
      }
    }
    return best > 0 ? best : batch.size();
  }

  /**
   * Runs a batch and answers every request in it, whatever happens.
   *
   * @return the error that means this worker's instance cannot go on, or null
   */
  private Error executeAnswered(BatchExecutor executor, List<Pending> taken) {
    try {
      return execute(executor, taken);
    } catch (RuntimeException | Error e) {
      // only a failure outside the engine call (a listener, for one) gets here
      return failAll(taken, e);
    }
  }

  private Error execute(BatchExecutor executor, List<Pending> taken) {
    long now = System.nanoTime();
    List<Pending> batch = new ArrayList<>(taken.size());
    for (Pending p : taken) {
      listener.dequeued(now - p.enqueuedAt);
      if (p.future.isDone()) {
        continue; // cancelled by its caller: not run
      }
      if (p.request.hasDeadline() && now - p.request.deadlineNanos() >= 0) {
        p.future.completeExceptionally(new InferenceException(ErrorKind.DEADLINE_EXCEEDED,
            "deadline passed while queued for " + label + "; the request was not run"));
      } else {
        batch.add(p);
      }
    }
    if (batch.isEmpty()) {
      return null;
    }
    try {
      split(batch, runTimed(executor, batch));
      return null;
    } catch (RuntimeException | Error e) {
      if (fatal(e) || batch.size() == 1) {
        return failAll(batch, e);
      }
      LOG.debug("event=batch_failed_retrying_alone batcher=\"{}\" requests={}", label, batch.size());
      return retryAlone(executor, batch);
    }
  }

  /** Runs each request of a failed batch by itself, so that one bad request fails alone. */
  private Error retryAlone(BatchExecutor executor, List<Pending> batch) {
    for (Pending p : batch) {
      if (p.future.isDone()) {
        continue;
      }
      try {
        p.future.complete(runTimed(executor, List.of(p)));
      } catch (RuntimeException | Error e) {
        if (fatal(e)) {
          return failAll(batch, e);
        }
        p.future.completeExceptionally(failureOf(e));
      }
    }
    return null;
  }

  /**
   * Whether an error means the instance cannot run another batch. Running out of heap or stack
   * fails the batch but leaves the instance usable; any other Error (an engine's internal error,
   * a linkage failure) leaves it in a state nobody can vouch for.
   */
  private static boolean fatal(Throwable e) {
    return e instanceof Error && !(e instanceof OutOfMemoryError) && !(e instanceof StackOverflowError);
  }

  /**
   * Answers every request of the batch with the failure. A fatal error counts its instance out
   * first, so that whoever hears of the failure sees readiness already false when none is left.
   *
   * @return the error when it is fatal, else null
   */
  private Error failAll(List<Pending> batch, Throwable e) {
    Error fatal = fatal(e) ? (Error) e : null;
    if (fatal != null && healthy.decrementAndGet() == 0) {
      failure = "its instance failed (" + fatal + "); reload the model";
      LOG.error("event=batcher_failed batcher=\"{}\" reason=\"{}\"", label, failure);
    }
    InferenceException answer = failureOf(e);
    for (Pending p : batch) {
      p.future.completeExceptionally(answer);
    }
    return fatal;
  }

  private InferenceException failureOf(Throwable e) {
    if (e instanceof Error) {
      return new InferenceException(ErrorKind.INTERNAL, label + " failed running the batch: " + e, e);
    }
    return InferenceException.of(e);
  }

  private List<Tensor> runTimed(BatchExecutor executor, List<Pending> batch) {
    int inputCount = batch.get(0).request.inputs().size();
    List<Tensor> merged = new ArrayList<>(inputCount);
    long rows = 0;
    for (Pending p : batch) {
      rows += p.rows;
    }
    for (int i = 0; i < inputCount; i++) {
      List<Tensor> parts = new ArrayList<>(batch.size());
      for (Pending p : batch) {
        parts.add(p.request.inputs().get(i));
      }
      merged.add(Tensor.concatRows(parts));
    }
    long start = System.nanoTime();
    try {
      return executor.run(merged);
    } finally {
      listener.executed(batch.size(), rows, System.nanoTime() - start);
    }
  }

  private void split(List<Pending> batch, List<Tensor> outputs) {
    if (batch.size() == 1) {
      batch.get(0).future.complete(outputs);
      return;
    }
    long total = 0;
    for (Pending p : batch) {
      total += p.rows;
    }
    for (Tensor out : outputs) {
      if (out.shape().length == 0 || out.rows() != total) {
        throw new InferenceException(ErrorKind.INTERNAL, "output '" + out.name() + "' has shape "
            + Shapes.format(out.shape()) + " but the batch has " + total + " rows; a model with max_batch_size > 0"
            + " must keep the batch dimension first");
      }
    }
    long at = 0;
    for (Pending p : batch) {
      List<Tensor> mine = new ArrayList<>(outputs.size());
      for (Tensor out : outputs) {
        mine.add(out.sliceRows(at, at + p.rows));
      }
      at += p.rows;
      p.future.complete(mine);
    }
  }

  /** A queued request. */
  private static final class Pending {
    final InferRequest request;
    final long rows;
    final long enqueuedAt = System.nanoTime();
    final CompletableFuture<List<Tensor>> future = new CompletableFuture<>();
    final String shapeKey;
    volatile ScheduledFuture<?> timer;

    Pending(InferRequest request) {
      this.request = request;
      this.rows = request.rows();
      StringBuilder key = new StringBuilder();
      for (Tensor t : request.inputs()) {
        long[] shape = t.shape();
        key.append(t.name()).append(t.datatype())
            .append(Arrays.toString(shape.length == 0 ? shape : Arrays.copyOfRange(shape, 1, shape.length)))
            .append(';');
      }
      this.shapeKey = key.toString();
    }

    boolean compatibleWith(Pending other) {
      return shapeKey.equals(other.shapeKey);
    }

    void cancelTimer() {
      ScheduledFuture<?> t = timer;
      if (t != null) {
        t.cancel(false);
      }
    }
  }
}
