package dev.gantry.sidecar.core;

import static java.util.Objects.requireNonNull;

import java.util.concurrent.CompletionException;

/** The sidecar's one error type: a kind and a message meant for the caller. */
public final class SidecarException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorKind kind;

  public SidecarException(ErrorKind kind, String message) {
    super(requireNonNull(message, "message"), null, false, false);
    this.kind = requireNonNull(kind, "kind");
  }

  public ErrorKind kind() {
    return kind;
  }

  public static SidecarException invalid(String message) {
    return new SidecarException(ErrorKind.INVALID_ARGUMENT, message);
  }

  /** Any throwable as a SidecarException; unknown ones become INTERNAL. */
  public static SidecarException of(Throwable t) {
    Throwable cause = t;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof SidecarException e) {
      return e;
    }
    return new SidecarException(ErrorKind.INTERNAL, String.valueOf(cause.getMessage() == null
        ? cause.getClass().getSimpleName() : cause.getMessage()));
  }
}
