package dev.gantry.runner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/** The file of a Unix domain socket the runner listens on ({@code --grpc-socket}). */
final class UnixSocketFile {
  private UnixSocketFile() {}

  /**
   * Makes {@code path} ready to be bound: its folder exists, and a socket file a previous runner left behind is
   * removed (binding fails on an existing file). Anything else at that path is refused rather than deleted.
   */
  static void prepare(Path path) {
    try {
      Path parent = path.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
        BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class,
            LinkOption.NOFOLLOW_LINKS);
        if (!attributes.isOther()) {
          throw new IllegalArgumentException("--grpc-socket " + path + " exists and is not a socket; remove it or"
              + " choose another path");
        }
        Files.delete(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("--grpc-socket " + path + ": " + e.getMessage(), e);
    }
  }

  /** Removes the socket file at shutdown; one already gone is fine. */
  static void remove(Path path) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      // left behind: the next start removes it
    }
  }
}
