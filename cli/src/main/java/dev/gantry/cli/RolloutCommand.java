package dev.gantry.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code gantry rollout}: a rollout's status and decision log, and a person's commands (pause, resume, promote,
 * abort, retry). Rollouts themselves are applied with {@code gantry apply -f} ({@code kind: rollout}).
 */
@Command(name = "rollout", mixinStandardHelpOptions = true, description = "Watch and steer canary rollouts.",
    subcommands = {RolloutCommand.Status.class, RolloutCommand.Aliases.class})
final class RolloutCommand {
  @ParentCommand
  Gantry gantry;

  /** Sends a command and prints the status that follows. */
  int send(String name, String command) {
    AdminClient.Reply reply = gantry.client().post("/admin/v1/rollouts/" + name + "/" + command);
    if (gantry.refused(reply)) {
      return 1;
    }
    gantry.out().print(Tables.rolloutStatus(reply.body(), 5));
    gantry.out().flush();
    return 0;
  }

  @Command(name = "status", description = "Show where a rollout is, its last checks (value, threshold, p-value,"
      + " verdict) and its decision log.")
  static final class Status implements Callable<Integer> {
    @ParentCommand
    RolloutCommand rollout;

    @Parameters(index = "0", description = "the rollout")
    String name;

    @Option(names = {"-n", "--decisions"}, defaultValue = "20", description = "decisions to show (default 20)")
    int decisions;

    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table or json")
    String output;

    @Override
    public Integer call() throws IOException {
      AdminClient.Reply reply = rollout.gantry.client().get("/admin/v1/rollouts/" + name + "/status");
      if (rollout.gantry.refused(reply)) {
        return 1;
      }
      rollout.gantry.out().print(output.equals("json") ? new ObjectMapper().writerWithDefaultPrettyPrinter()
          .writeValueAsString(reply.body()) + System.lineSeparator() : Tables.rolloutStatus(reply.body(), decisions));
      rollout.gantry.out().flush();
      return 0;
    }
  }

  @Command(name = "aliases", description = "Show the rollouts that endpoints' rollout policies started for new"
      + " versions of watched aliases, and how each ended (promoted or rejected).")
  static final class Aliases implements Callable<Integer> {
    @ParentCommand
    RolloutCommand rollout;

    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table or json")
    String output;

    @Override
    public Integer call() throws IOException {
      AdminClient.Reply reply = rollout.gantry.client().get("/admin/v1/alias-rollouts");
      if (rollout.gantry.refused(reply)) {
        return 1;
      }
      rollout.gantry.out().print(output.equals("json") ? new ObjectMapper().writerWithDefaultPrettyPrinter()
          .writeValueAsString(reply.body()) + System.lineSeparator() : Tables.aliasRollouts(reply.body()));
      rollout.gantry.out().flush();
      return 0;
    }
  }

  // the commands below differ only in the word they send: one method each, which picocli makes a subcommand

  @Command(name = "pause", description = "Hold a progressing rollout at its step (analysis stops).")
  int pause(@Parameters(paramLabel = "NAME", description = "the rollout") String name) {
    return send(name, "pause");
  }

  @Command(name = "resume", description = "Resume a paused rollout.")
  int resume(@Parameters(paramLabel = "NAME", description = "the rollout") String name) {
    return send(name, "resume");
  }

  @Command(name = "promote", description = "Move a rollout to its next step now, or with --full to 100 %%.")
  int promote(@Parameters(paramLabel = "NAME", description = "the rollout") String name,
      @Option(names = "--full", description = "skip the remaining steps: the canary takes all traffic") boolean full) {
    return send(name, full ? "promote?full=true" : "promote");
  }

  @Command(name = "abort", description = "Roll back now: all traffic to stable; the canary stays deployed.")
  int abort(@Parameters(paramLabel = "NAME", description = "the rollout") String name) {
    return send(name, "abort");
  }

  @Command(name = "retry", description = "Start a rolled-back, aborted or failed rollout again from its first step.")
  int retry(@Parameters(paramLabel = "NAME", description = "the rollout") String name) {
    return send(name, "retry");
  }
}
