package dev.gantry.runner.source;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Downloaded models on local disk, by model name and version ({@code <root>/<name>/<version>}). A download goes to
 * a temporary directory beside them and is moved into place only when it finished and passed its check, with a
 * {@value #COMPLETE} marker written last: a directory without the marker (a download cut short by a crash) is never
 * served, and is replaced by the next download. When the registry is unreachable, the newest complete version of a
 * model can still be served.
 */
public final class ModelCache {
  /** The marker of a complete entry. */
  static final String COMPLETE = ".gantry-complete";
  private final Path root;

  /** Fills a directory with a model's files; throws when it cannot. */
  @FunctionalInterface
  public interface Download {
    void into(Path dir) throws IOException;
  }

  /** Checks a downloaded directory before it is kept; throws {@link IllegalStateException} saying what is wrong. */
  @FunctionalInterface
  public interface Check {
    void verify(Path dir) throws IOException;
  }

  public ModelCache(Path root) {
    this.root = requireNonNull(root, "root");
  }

  /** Where a version lives (whether or not it is there). */
  public Path dir(String name, long version) {
    return root.resolve(safe(name)).resolve(Long.toString(version));
  }

  /** The version's directory, if a complete download of it is there. */
  public Optional<Path> cached(String name, long version) {
    Path d = dir(name, version);
    return Files.isRegularFile(d.resolve(COMPLETE)) ? Optional.of(d) : Optional.empty();
  }

  /** The newest complete version of a model, for when the registry cannot be asked. */
  public Optional<Long> newest(String name) {
    Path m = root.resolve(safe(name));
    if (!Files.isDirectory(m)) {
      return Optional.empty();
    }
    try (Stream<Path> versions = Files.list(m)) {
      return versions.filter(p -> p.getFileName().toString().matches("\\d{1,18}"))
          .filter(p -> Files.isRegularFile(p.resolve(COMPLETE)))
          .map(p -> Long.parseLong(p.getFileName().toString())).max(Comparator.naturalOrder());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The version's directory: the cached one when complete, else downloaded, checked and moved into place.
   *
   * @throws IOException when the download or the check fails (nothing is left behind)
   */
  public Path fetch(String name, long version, Download download, Check check) throws IOException {
    Optional<Path> hit = cached(name, version);
    if (hit.isPresent()) {
      return hit.get();
    }
    Path target = dir(name, version);
    Files.createDirectories(target.getParent());
    Path temp = target.getParent().resolve(".download-" + version + "-" + UUID.randomUUID());
    Files.createDirectories(temp);
    try {
      download.into(temp);
      check.verify(temp);
      Files.writeString(temp.resolve(COMPLETE), name + " " + version + "\n");
      Optional<Path> meanwhile = cached(name, version);
      if (meanwhile.isPresent()) {
        // another process sharing the cache (an init container, a second runner) finished first: keep its copy
        delete(temp);
        return meanwhile.get();
      }
      if (Files.exists(target)) {
        // an entry without its marker: a download cut short before; the complete one replaces it
        delete(target);
      }
      try {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, target);
      } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
        // the other process won the race between the check above and the move
        Optional<Path> theirs = cached(name, version);
        if (theirs.isEmpty()) {
          throw e;
        }
        delete(temp);
        return theirs.get();
      }
      return target;
    } catch (IOException | RuntimeException e) {
      delete(temp);
      throw e;
    }
  }

  /** A name as one directory name of its own: no separators, and never {@code .}, {@code ..} or hidden. */
  private static String safe(String name) {
    String s = name.replaceAll("[^A-Za-z0-9._-]", "_");
    return s.isEmpty() || s.startsWith(".") ? "_" + s : s;
  }

  private static void delete(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> all = Files.walk(p)) {
      for (Path x : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(x);
      }
    }
  }
}
