package dev.gantry.runner.source;

import static java.util.Objects.requireNonNull;

import dev.gantry.runner.repository.ConfigException;
import dev.gantry.runner.repository.MlflowModel;
import dev.gantry.runner.repository.SourcedModels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models the runner serves from URIs: resolves each (through the MLflow tracking server for {@code models:/} and
 * {@code runs:/}), fetches its files into the {@link ModelCache} and says which version and directory serve now.
 *
 * <p>A registry model is cached under its registered name and version. When the registry cannot be reached at
 * start, the newest complete cached version serves and a warning names the URI. A {@code runs:/},
 * {@code mlflow-artifacts:/} or {@code s3://} URI names files that do not change: it is fetched once, cached under
 * the model name and a hash of the URI as version 1. A local directory is served where it is.
 *
 * <p>Resolving and fetching block: call them at start or from the watcher's thread, never on an event loop.
 */
public final class ModelSources implements SourcedModels {
  private static final Logger LOG = LoggerFactory.getLogger(ModelSources.class);

  private final Map<String, SourceSpec> specs;
  private final Optional<MlflowRegistry> tracking;
  private final Optional<S3Download> s3;
  private final ModelCache cache;
  private final Map<String, Sourced> current = new ConcurrentHashMap<>();
  private final Map<String, Sourced> candidates = new ConcurrentHashMap<>();
  private final Map<String, String> failures = new ConcurrentHashMap<>();
  private final Map<String, String> updateFailures = new ConcurrentHashMap<>();

  /** Fetches an {@code s3://} URI's objects into a directory. */
  @FunctionalInterface
  public interface S3Download {
    void download(ModelUri.S3 uri, Path into) throws IOException;
  }

  /**
   * @param specs the models, by the name they are served under
   * @param tracking the MLflow tracking server ({@code MLFLOW_TRACKING_URI}); needed for models:/ and runs:/ URIs
   * @param s3 the S3 client; needed for s3:// URIs
   * @param cache where fetched models are kept
   */
  public ModelSources(List<SourceSpec> specs, Optional<MlflowRegistry> tracking, Optional<S3Download> s3,
      ModelCache cache) {
    Map<String, SourceSpec> byName = new LinkedHashMap<>();
    for (SourceSpec s : specs) {
      if (byName.put(s.name(), s) != null) {
        throw new IllegalArgumentException("two model URIs are served as '" + s.name() + "'; give each its own name");
      }
      if (!(s.uri() instanceof ModelUri.Local) && !(s.uri() instanceof ModelUri.S3) && tracking.isEmpty()) {
        throw new IllegalArgumentException("model '" + s.name() + "' comes from " + s.uri().text()
            + ", which the MLflow tracking server resolves; set MLFLOW_TRACKING_URI (e.g. http://mlflow:5000)");
      }
    }
    this.specs = Map.copyOf(byName);
    this.tracking = requireNonNull(tracking, "tracking");
    this.s3 = requireNonNull(s3, "s3");
    this.cache = requireNonNull(cache, "cache");
  }

  @Override
  public Set<String> names() {
    return specs.keySet();
  }

  public SourceSpec spec(String name) {
    SourceSpec s = specs.get(name);
    if (s == null) {
      throw new IllegalArgumentException("no model source named '" + name + "'");
    }
    return s;
  }

  @Override
  public Sourced current(String name) {
    Sourced s = current.get(name);
    if (s == null) {
      throw new ConfigException("model '" + name + "' from " + spec(name).uri().text() + " has nothing to serve: "
          + failures.getOrDefault(name, "it was not resolved yet"), null);
    }
    return s;
  }

  /** Serve this version from now on (the watcher's swap, or its revert after a failed load). */
  public void use(String name, Sourced sourced) {
    current.put(spec(name).name(), requireNonNull(sourced, "sourced"));
    failures.remove(name);
  }

  @Override
  public Optional<Sourced> candidate(String name) {
    return Optional.ofNullable(candidates.get(name));
  }

  /** Serve this version beside the current one, as a candidate ({@code null}: none any more). */
  public void offer(String name, Sourced candidate) {
    if (candidate == null) {
      candidates.remove(name);
    } else {
      candidates.put(spec(name).name(), candidate);
    }
  }

  @Override
  public Optional<String> updateFailure(String name) {
    return Optional.ofNullable(updateFailures.get(name));
  }

  /** Records why a move to a new version failed ({@code null}: the last move succeeded). */
  public void updateFailed(String name, String why) {
    if (why == null) {
      updateFailures.remove(name);
    } else {
      updateFailures.put(name, why);
    }
  }

  /**
   * Resolves and fetches every model; a model that fails keeps its reason (see {@link #current}), the others are
   * unaffected.
   */
  public void resolveAll() {
    for (SourceSpec spec : specs.values()) {
      try {
        current.put(spec.name(), startVersion(spec));
        failures.remove(spec.name());
      } catch (RuntimeException | IOException e) {
        failures.put(spec.name(), message(e));
        LOG.error("event=model_source_failed model={} uri={} reason=\"{}\"", spec.name(), spec.uri().text(),
            message(e));
      }
    }
  }

  private Sourced startVersion(SourceSpec spec) throws IOException {
    if (spec.uri() instanceof ModelUri.Registered r) {
      MlflowRegistry.ModelVersion mv;
      try {
        mv = tracking.orElseThrow().resolve(r);
      } catch (MlflowRegistry.RegistryException e) {
        Optional<Long> cached = e.status() == 0 || e.status() >= 500 ? cache.newest(r.name()) : Optional.empty();
        if (cached.isEmpty()) {
          throw e;
        }
        LOG.warn("event=model_source_registry_unreachable model={} uri={} serving=cached version={} reason=\"{}\"",
            spec.name(), r.text(), cached.get(), e.getMessage());
        return new Sourced(r.text(), cached.get(), cache.cached(r.name(), cached.get()).orElseThrow());
      }
      return fetch(spec, mv);
    }
    return fetchFixed(spec);
  }

  /** What a registry URI names now (a blocking call to the registry). */
  public MlflowRegistry.ModelVersion resolve(ModelUri.Registered uri) {
    return tracking.orElseThrow().resolve(uri);
  }

  /** A registry version's files, from the cache or downloaded into it. */
  public Sourced fetch(SourceSpec spec, MlflowRegistry.ModelVersion mv) throws IOException {
    Path dir = cache.fetch(mv.name(), mv.version(), into -> download(mv.downloadUri(), into), ModelSources::check);
    return new Sourced(spec.uri().text(), mv.version(), dir);
  }

  private Sourced fetchFixed(SourceSpec spec) throws IOException {
    if (spec.uri() instanceof ModelUri.Local local) {
      Path dir = local.path().toAbsolutePath().normalize();
      check(dir);
      return new Sourced(spec.uri().text(), 1L, dir);
    }
    String key = spec.name() + "-" + shortHash(spec.uri().text());
    Path dir = cache.fetch(key, 1L, into -> download(spec.uri().text(), into), ModelSources::check);
    return new Sourced(spec.uri().text(), 1L, dir);
  }

  /** Fills {@code into} with what a download URI names. */
  private void download(String uriText, Path into) throws IOException {
    ModelUri uri = ModelUri.parse(uriText);
    if (uri instanceof ModelUri.Artifacts a) {
      trackingFor(uriText).downloadArtifacts(a, into);
    } else if (uri instanceof ModelUri.Run run) {
      download(trackingFor(uriText).runArtifactUri(run), into);
    } else if (uri instanceof ModelUri.S3 s) {
      s3.orElseThrow(() -> new IllegalArgumentException(uriText + " is in S3, which this runner has no client for"))
          .download(s, into);
    } else if (uri instanceof ModelUri.Local l) {
      copyTree(l.path(), into);
    } else {
      throw new IllegalArgumentException("the registry gave " + uriText + " as a download URI, which names another"
          + " registered model; point the model version at its files");
    }
  }

  private MlflowRegistry trackingFor(String uriText) {
    return tracking.orElseThrow(() -> new IllegalArgumentException(uriText + " is served by an MLflow tracking"
        + " server; set MLFLOW_TRACKING_URI"));
  }

  /** A fetched directory is kept only when it is an MLflow model whose model file is there. */
  private static void check(Path dir) {
    if (!Files.isRegularFile(dir.resolve("MLmodel"))) {
      throw new ConfigException(dir, "", "has no MLmodel file", "point the URI at an MLflow model directory"
          + " (the folder holding MLmodel, e.g. runs:/<run_id>/model)");
    }
    MlflowModel.read(dir);
  }

  private static void copyTree(Path from, Path into) throws IOException {
    Path src = from.toAbsolutePath().normalize();
    if (!Files.exists(src)) {
      throw new IOException(src + " does not exist");
    }
    if (Files.isRegularFile(src)) {
      Files.copy(src, into.resolve(src.getFileName().toString()));
      return;
    }
    try (Stream<Path> all = Files.walk(src)) {
      for (Path p : all.toList()) {
        Path target = into.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  private static String shortHash(String text) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String message(Throwable e) {
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }
}
