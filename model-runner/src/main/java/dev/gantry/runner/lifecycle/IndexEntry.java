package dev.gantry.runner.lifecycle;

/**
 * One row of the repository index.
 *
 * @param name model name
 * @param version version ("" when no version is loaded)
 * @param state lifecycle state
 * @param reason why it is not READY, or ""
 */
public record IndexEntry(String name, String version, ModelState state, String reason) {}
