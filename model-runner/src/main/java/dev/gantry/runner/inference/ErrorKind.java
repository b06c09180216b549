package dev.gantry.runner.inference;

/**
 * The kinds of failure an inference call can end in. Each protocol front maps a
 * kind once to its own status (gRPC status code, HTTP status, error body).
 */
public enum ErrorKind {
  /** The request is malformed or does not match the model. */
  INVALID_ARGUMENT,
  /** The model or version does not exist or is not loaded. */
  NOT_FOUND,
  /** The model exists but cannot serve right now (loading, unloading, failed). */
  UNAVAILABLE,
  /** A queue or limit is full; the caller may retry later. */
  RESOURCE_EXHAUSTED,
  /** The caller's deadline passed before an answer was ready. */
  DEADLINE_EXCEEDED,
  /** The engine or the server failed. */
  INTERNAL
}
