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
 * <p>Requests wait in a bounded FIFO queue. A worker takes the oldest request and, when merging
 * is on, waits up to the policy's delay for more requests with the same trailing shapes, until the
 * batch holds {@link BatchPolicy#dispatchRows()} rows; no batch exceeds {@code maxBatchSize} rows
 * and requests are never split. The merged inputs run once and each request gets its own rows of
 * the outputs back. A full queue refuses at once (RESOURCE_EXHAUSTED); a request whose deadline
 * passes while it waits is answered DEADLINE_EXCEEDED and never runs. When a merged batch fails,
 * its requests are run again one by one, so that one bad request cannot fail its neighbours.
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
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private boolean closed;

  /**
   * Starts one worker thread per executor.
   *
   * @param label names the threads and the error messages ("model 'x' version 1")
   * @param timers runs deadline timers; shared, never blocked on
   */
  public DynamicBatcher(String label, BatchPolicy policy, List<BatchExecutor> executors,
      ScheduledExecutorService timers, BatchListener listener) {
    this.label = requireNonNull(label, "label");
    this.policy = requireNonNull(policy, "policy");
    this.timers = requireNonNull(timers, "timers");
    this.listener = requireNonNull(listener, "listener");
    if (executors.isEmpty()) {
      throw new IllegalArgumentException("at least one executor is needed");
    }
    running.set(executors.size());
    for (int i = 0; i < executors.size(); i++) {
      BatchExecutor executor = executors.get(i);
      Thread t = new Thread(() -> work(executor), "gantry-batcher-" + label.replaceAll("[^A-Za-z0-9.-]+", "-") + "-" + i);
      t.setDaemon(true);
      workers.add(t);
    }
    workers.forEach(Thread::start);
  }

  /**
   * Queues a validated request.
   *
   * @return the request's outputs (every output, its rows only); fails with an
   *     {@link InferenceException}
   */
  public CompletableFuture<List<Tensor>> submit(InferRequest request) {
    Pending p = new Pending(request);
    lock.lock();
    try {
      if (closed) {
        p.future.completeExceptionally(InferenceException.unavailable(label + " is unloading"));
        return p.future;
      }
      if (queue.size() >= policy.maxQueueSize()) {
        p.future.completeExceptionally(new InferenceException(ErrorKind.RESOURCE_EXHAUSTED,
            label + " has a full queue (" + policy.maxQueueSize() + " requests waiting); retry later"));
        return p.future;
      }
      queue.addLast(p);
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    if (request.hasDeadline()) {
      long delay = request.deadlineNanos() - System.nanoTime();
      if (delay <= 0) {
        expire(p);
      } else {
        p.timer = timers.schedule(() -> expire(p), delay, TimeUnit.NANOSECONDS);
      }
    }
    return p.future;
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
    boolean removed;
    lock.lock();
    try {
      removed = queue.remove(p);
    } finally {
      lock.unlock();
    }
    if (removed) {
      p.future.completeExceptionally(new InferenceException(ErrorKind.DEADLINE_EXCEEDED,
          "deadline passed after " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - p.enqueuedAt)
              + " ms in the queue of " + label + "; the request was not run"));
    }
  }

  private void work(BatchExecutor executor) {
    try {
      while (true) {
        List<Pending> batch = nextBatch();
        if (batch == null) {
          return;
        }
        execute(executor, batch);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      LOG.error("event=batcher_worker_crashed batcher=\"{}\"", label, e);
    } finally {
      if (running.decrementAndGet() == 0) {
        failRemaining();
        stopped.complete(null);
      }
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
    for (Pending p : left) {
      p.future.completeExceptionally(InferenceException.unavailable(label + " stopped"));
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
          changed.await();
        }
        if (!policy.merge()) {
          return List.of(queue.pollFirst());
        }
        Pending head = queue.peekFirst();
        long waitUntil = head.enqueuedAt + policy.maxQueueDelayNanos();
        long remaining = waitUntil - System.nanoTime();
        if (closed || remaining <= 0 || compatibleRows(head) >= policy.dispatchRows()) {
          return takeBatch(head);
        }
        changed.awaitNanos(remaining);
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
    for (int i = 0; i < batch.size(); i++) {
      queue.pollFirst();
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

  private void execute(BatchExecutor executor, List<Pending> taken) {
    long now = System.nanoTime();
    List<Pending> batch = new ArrayList<>(taken.size());
    for (Pending p : taken) {
      if (p.timer != null) {
        p.timer.cancel(false);
      }
      listener.dequeued(now - p.enqueuedAt);
      if (p.request.hasDeadline() && now - p.request.deadlineNanos() >= 0) {
        p.future.completeExceptionally(new InferenceException(ErrorKind.DEADLINE_EXCEEDED,
            "deadline passed while queued for " + label + "; the request was not run"));
      } else {
        batch.add(p);
      }
    }
    if (batch.isEmpty()) {
      return;
    }
    try {
      List<Tensor> outputs = runTimed(executor, batch);
      split(batch, outputs);
    } catch (RuntimeException e) {
      if (batch.size() == 1) {
        batch.get(0).future.completeExceptionally(InferenceException.of(e));
        return;
      }
      LOG.debug("event=batch_failed_retrying_alone batcher=\"{}\" requests={}", label, batch.size());
      for (Pending p : batch) {
        try {
          p.future.complete(runTimed(executor, List.of(p)));
        } catch (RuntimeException single) {
          p.future.completeExceptionally(InferenceException.of(single));
        }
      }
    }
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
  }
}
