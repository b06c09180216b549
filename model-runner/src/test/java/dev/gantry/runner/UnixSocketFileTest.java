package dev.gantry.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnixSocketFileTest {
  @TempDir
  Path dir;

  @Test
  void aSocketFileLeftBehindIsRemovedAndMissingFoldersAreMade() throws Exception {
    Path stale = dir.resolve("stale.sock");
    // a socket bound and closed without unlinking: what a runner killed with SIGKILL leaves behind
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(stale));
    }
    assertThat(stale).exists();
    UnixSocketFile.prepare(stale);
    assertThat(stale).doesNotExist();
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(stale));
    }

    Path nested = dir.resolve("run/gantry/runner.sock");
    UnixSocketFile.prepare(nested);
    assertThat(nested.getParent()).isDirectory();
    assertThat(nested).doesNotExist();
  }

  @Test
  void anythingButASocketAtThePathIsRefusedNotDeleted() throws Exception {
    Path file = dir.resolve("models.yaml");
    Files.writeString(file, "not a socket");
    assertThatThrownBy(() -> UnixSocketFile.prepare(file)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--grpc-socket " + file + " exists and is not a socket");
    assertThat(file).hasContent("not a socket");
  }
}
