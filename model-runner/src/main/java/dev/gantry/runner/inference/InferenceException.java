package dev.gantry.runner.inference;

import static java.util.Objects.requireNonNull;

/** The one error type of the runner: a kind plus a message meant for the caller. */
public final class InferenceException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorKind kind;

  public InferenceException(ErrorKind kind, String message) {
    super(requireNonNull(message, "message"), null, false, false);
    this.kind = requireNonNull(kind, "kind");
  }

  public InferenceException(ErrorKind kind, String message, Throwable cause) {
    super(requireNonNull(message, "message"), cause, false, false);
    this.kind = requireNonNull(kind, "kind");
  }

  public ErrorKind kind() {
    return kind;
  }

  public static InferenceException invalid(String message) {
    return new InferenceException(ErrorKind.INVALID_ARGUMENT, message);
  }

  public static InferenceException notFound(String message) {
    return new InferenceException(ErrorKind.NOT_FOUND, message);
  }

  public static InferenceException unavailable(String message) {
    return new InferenceException(ErrorKind.UNAVAILABLE, message);
  }

  /** Wraps any throwable; an {@link InferenceException} is returned as it is. */
  public static InferenceException of(Throwable t) {
    Throwable cause = t;
    while ((cause instanceof java.util.concurrent.CompletionException
            || cause instanceof java.util.concurrent.ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof InferenceException e) {
      return e;
    }
    String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    return new InferenceException(ErrorKind.INTERNAL, message, cause);
  }
}
