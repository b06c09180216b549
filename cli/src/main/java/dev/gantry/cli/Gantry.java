package dev.gantry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * The {@code gantry} command: applies, lists and deletes the declarative specs a sidecar's admin API keeps in cluster
 * state. Exit status: 0 done, 1 refused by the admin API, 2 usage error or no admin API reached.
 */
@Command(name = "gantry", mixinStandardHelpOptions = true, version = "gantry 0.1.0",
    description = "Serves models (gantry serve) and is the client of the Gantry sidecar's admin API: endpoints"
        + " (traffic splits), shadows, experiments, rollouts and cluster state.",
    subcommands = {Gantry.Apply.class, Gantry.Get.class, Gantry.Delete.class, Gantry.Results.class,
        Gantry.Disagreements.class, Gantry.Members.class, RolloutCommand.class, ServeCommand.class})
public final class Gantry {
  static final List<String> KINDS = List.of("endpoint", "shadow", "experiment", "rollout");

  @Option(names = {"-s", "--server"}, defaultValue = "${env:GANTRY_ADMIN_URL:-http://127.0.0.1:8081}",
      description = "admin API URL (env GANTRY_ADMIN_URL, default ${DEFAULT-VALUE})")
  URI server;

  @Option(names = {"-t", "--token"}, defaultValue = "${env:GANTRY_ADMIN_TOKEN}",
      description = "bearer token of the admin API (env GANTRY_ADMIN_TOKEN)")
  String token;

  @Spec
  CommandLine.Model.CommandSpec spec;

  AdminClient client() {
    return new AdminClient(server, Optional.ofNullable(token).filter(t -> !t.isBlank()));
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  /** Prints a refusal (with each problem's field) and says whether the reply was one. */
  boolean refused(AdminClient.Reply reply) {
    if (reply.ok()) {
      return false;
    }
    err().println("error (HTTP " + reply.status() + "): " + reply.error());
    err().flush();
    return true;
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line, with the exit codes and error handling the commands share. */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Gantry());
    cli.setExecutionExceptionHandler((e, commandLine, parsed) -> {
      if (e instanceof AdminClient.Unreachable || e instanceof UsageError) {
        commandLine.getErr().println("error: " + e.getMessage());
        return 2;
      }
      throw e;
    });
    return cli;
  }

  /** A mistake in what the user gave (a file, a spec's kind). */
  static final class UsageError extends RuntimeException {
    UsageError(String message) {
      super(message);
    }
  }

  static String plural(String kind) {
    String k = kind.toLowerCase(Locale.ROOT);
    if (k.endsWith("s")) {
      k = k.substring(0, k.length() - 1);
    }
    if (!KINDS.contains(k)) {
      throw new UsageError("unknown kind '" + kind + "'; known kinds: " + String.join(", ", KINDS));
    }
    return k + "s";
  }

  @Command(name = "apply", description = "Create or change what a YAML file declares (several documents may be"
      + " separated by ---). Each document is a spec with 'kind: endpoint' (the default) or 'kind: shadow', 'kind: experiment' or 'kind: rollout', and a"
      + " 'name'.")
  static final class Apply implements Callable<Integer> {
    @ParentCommand
    Gantry gantry;

    @Option(names = {"-f", "--filename"}, required = true, description = "YAML file; '-' reads standard input")
    List<Path> files;

    @Option(names = "--if-match", description = "apply only if the object is at this revision (0: only if new)")
    Long ifMatch;

    @Override
    public Integer call() {
      List<ObjectNode> documents = new ArrayList<>();
      for (Path file : files) {
        documents.addAll(read(file));
      }
      AdminClient client = gantry.client();
      int status = 0;
      for (ObjectNode doc : documents) {
        String kind = doc.has("kind") ? doc.remove("kind").asText() : "endpoint";
        String plural = plural(kind);
        String name = doc.path("name").asText("");
        if (name.isEmpty()) {
          throw new UsageError("a " + kind + " document has no 'name'");
        }
        AdminClient.Reply reply = client.put("/admin/v1/" + plural + "/" + name, doc.toString(),
            Optional.ofNullable(ifMatch).map(String::valueOf));
        String what = plural.substring(0, plural.length() - 1) + "/" + name;
        if (reply.ok()) {
          String change = switch (reply.body().path("change").asText()) {
            case "created" -> "created";
            case "unchanged" -> "unchanged";
            default -> "configured";
          };
          gantry.out().println(what + " " + change + " (revision " + reply.body().path("revision").asLong() + ")");
        } else {
          gantry.err().println(what + " refused (HTTP " + reply.status() + "): " + reply.error());
          status = 1;
        }
      }
      gantry.out().flush();
      return status;
    }

    private static List<ObjectNode> read(Path file) {
      YAMLMapper yaml = new YAMLMapper();
      List<ObjectNode> docs = new ArrayList<>();
      try {
        String text = file.toString().equals("-") ? new String(System.in.readAllBytes(),
            java.nio.charset.StandardCharsets.UTF_8) : Files.readString(file);
        try (var parser = new YAMLFactory().createParser(text)) {
          var values = yaml.readValues(parser, JsonNode.class);
          while (values.hasNext()) {
            JsonNode doc = values.next();
            if (doc == null || doc.isNull() || doc.isMissingNode()) {
              continue;
            }
            if (!doc.isObject()) {
              throw new UsageError(file + ": every document must be a mapping (a spec)");
            }
            docs.add((ObjectNode) doc);
          }
        }
      } catch (IOException | RuntimeException e) {
        if (e instanceof UsageError u) {
          throw u;
        }
        throw new UsageError(file + ": cannot read YAML: " + e.getMessage());
      }
      if (docs.isEmpty()) {
        throw new UsageError(file + ": no spec in it");
      }
      return docs;
    }
  }

  @Command(name = "get", description = "Show endpoints, shadows or experiments: a table, or the specs as YAML or JSON (-o).")
  static final class Get implements Callable<Integer> {
    @ParentCommand
    Gantry gantry;

    @Parameters(index = "0", description = "what to show: endpoints, shadows or experiments")
    String kind;

    @Parameters(index = "1", arity = "0..1", description = "one name; all when left out")
    String name;

    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table, yaml or json")
    String output;

    @Override
    public Integer call() throws IOException {
      String plural = plural(kind);
      AdminClient.Reply reply = gantry.client().get("/admin/v1/" + plural + (name == null ? "" : "/" + name));
      if (gantry.refused(reply)) {
        return 1;
      }
      List<JsonNode> items = new ArrayList<>();
      if (name == null) {
        reply.body().path("items").forEach(items::add);
      } else {
        items.add(reply.body());
      }
      switch (output.toLowerCase(Locale.ROOT)) {
        case "table" -> gantry.out().print(switch (plural) {
          case "shadows" -> Tables.shadows(items);
          case "experiments" -> Tables.experiments(items);
          case "rollouts" -> Tables.rollouts(items);
          default -> Tables.endpoints(items);
        });
        case "yaml" -> {
          YAMLMapper yaml = new YAMLMapper();
          for (JsonNode item : items) {
            ObjectNode spec = ((ObjectNode) item.path("spec")).deepCopy();
            ObjectNode doc = yaml.createObjectNode().put("kind", plural.substring(0, plural.length() - 1));
            doc.setAll(spec);
            gantry.out().print(yaml.writeValueAsString(doc));
          }
        }
        case "json" -> gantry.out().println(new ObjectMapper().writerWithDefaultPrettyPrinter()
            .writeValueAsString(name == null ? reply.body() : items.get(0)));
        default -> throw new UsageError("--output must be table, yaml or json");
      }
      gantry.out().flush();
      return 0;
    }
  }

  @Command(name = "delete", description = "Delete an endpoint, a shadow or an experiment.")
  static final class Delete implements Callable<Integer> {
    @ParentCommand
    Gantry gantry;

    @Parameters(index = "0", description = "kind: endpoint, shadow or experiment")
    String kind;

    @Parameters(index = "1", description = "its name")
    String name;

    @Option(names = "--if-match", description = "delete only if it is at this revision")
    Long ifMatch;

    @Override
    public Integer call() {
      String plural = plural(kind);
      AdminClient.Reply reply = gantry.client().delete("/admin/v1/" + plural + "/" + name,
          Optional.ofNullable(ifMatch).map(String::valueOf));
      if (gantry.refused(reply)) {
        return 1;
      }
      gantry.out().println(plural.substring(0, plural.length() - 1) + "/" + name + " deleted (was revision "
          + reply.body().path("revision").asLong() + ")");
      gantry.out().flush();
      return 0;
    }
  }

  @Command(name = "results", description = "Show an experiment's results: per variant exposures, errors, latency and"
      + " reward; against the control the difference with its always-valid interval and p-value; the sample-ratio"
      + " check.")
  static final class Results implements Callable<Integer> {
    @ParentCommand
    Gantry gantry;

    @Parameters(index = "0", description = "the experiment (its endpoint's name)")
    String name;

    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table or json")
    String output;

    @Override
    public Integer call() throws IOException {
      AdminClient.Reply reply = gantry.client().get("/admin/v1/experiments/" + name + "/results");
      if (gantry.refused(reply)) {
        return 1;
      }
      gantry.out().print(output.equals("json") ? new ObjectMapper().writerWithDefaultPrettyPrinter()
          .writeValueAsString(reply.body()) + System.lineSeparator() : Tables.results(reply.body()));
      gantry.out().flush();
      return 0;
    }
  }

  @Command(name = "disagreements", description = "Show a shadow's last disagreements with the primary (as one sidecar"
      + " kept them): request id, both variants and their outputs.")
  static final class Disagreements implements Callable<Integer> {
    @ParentCommand
    Gantry gantry;

    @Parameters(index = "0", description = "the endpoint whose shadow it is")
    String name;

    @Override
    public Integer call() {
      AdminClient.Reply reply = gantry.client().get("/admin/v1/shadows/" + name + "/disagreements");
      if (gantry.refused(reply)) {
        return 1;
      }
      gantry.out().print(Tables.disagreements(reply.body()));
      gantry.out().flush();
      return 0;
    }
  }

  @Command(name = "members", description = "Show the sidecars that share cluster state, oldest first.")
  static final class Members implements Callable<Integer> {
    @ParentCommand
    Gantry gantry;

    @Override
    public Integer call() {
      AdminClient.Reply reply = gantry.client().get("/admin/v1/cluster");
      if (gantry.refused(reply)) {
        return 1;
      }
      String self = reply.body().path("self").asText();
      for (JsonNode m : reply.body().path("members")) {
        gantry.out().println(m.asText() + (m.asText().equals(self) ? "  (this sidecar)" : ""));
      }
      gantry.out().flush();
      return 0;
    }
  }
}
