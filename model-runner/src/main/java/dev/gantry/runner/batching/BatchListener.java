package dev.gantry.runner.batching;

/** Hears what a {@link DynamicBatcher} does, for metrics. Called on worker threads. */
public interface BatchListener {
  /** A request left the queue after waiting {@code queueNanos}. */
  void dequeued(long queueNanos);

  /** A batch of {@code rows} rows ({@code requests} requests) ran in {@code computeNanos}. */
  void executed(int requests, long rows, long computeNanos);

  BatchListener NONE = new BatchListener() {
    @Override
    public void dequeued(long queueNanos) {}

    @Override
    public void executed(int requests, long rows, long computeNanos) {}
  };
}
