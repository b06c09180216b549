package dev.gantry.sidecar.admin;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.routing.SpecProblem;
import java.util.List;

/**
 * A refused admin request: its HTTP status, a message, and, for an invalid spec, every problem with the field it is
 * about. The admin API answers it as {@code {"error": "…", "problems": [{"field": "…", "message": "…"}]}}.
 */
public final class AdminException extends RuntimeException {
  private final int status;
  private final List<SpecProblem> problems;

  public AdminException(int status, String message, List<SpecProblem> problems) {
    super(requireNonNull(message, "message"), null, false, false);
    this.status = status;
    this.problems = List.copyOf(problems);
  }

  public AdminException(int status, String message) {
    this(status, message, List.of());
  }

  public int status() {
    return status;
  }

  public List<SpecProblem> problems() {
    return problems;
  }
}
