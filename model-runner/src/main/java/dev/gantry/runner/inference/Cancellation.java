package dev.gantry.runner.inference;

import java.util.concurrent.CompletableFuture;

/**
 * Carries a caller's cancellation back along a chain of futures. A future derived with
 * {@code thenApply}, {@code whenComplete} and the like does not cancel the one it came from; the
 * runner links them so that a call the client cancelled leaves the batcher's queue.
 */
public final class Cancellation {
  private Cancellation() {}

  /**
   * Makes cancelling {@code derived} cancel {@code source}.
   *
   * @return {@code derived}
   */
  public static <T> CompletableFuture<T> propagate(CompletableFuture<T> derived, CompletableFuture<?> source) {
    derived.whenComplete((v, e) -> {
      if (derived.isCancelled()) {
        source.cancel(false);
      }
    });
    return derived;
  }
}
