package dev.gantry.runner.lifecycle;

/** Lifecycle state of a model, as reported by RepositoryIndex (Triton's state names). */
public enum ModelState {
  UNAVAILABLE,
  LOADING,
  READY,
  UNLOADING
}
