package dev.gantry.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

class EventLoopTransportTest {
  private static boolean linuxX86() {
    return System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).contains("linux")
        && java.util.List.of("amd64", "x86_64").contains(System.getProperty("os.arch"));
  }

  @Test
  void usesEpollOnLinuxX86WhenPreferred() {
    assumeTrue(linuxX86(), "the epoll library on the classpath is Linux x86-64's");
    Vertx vertx = Vertx.vertx(EventLoopTransport.options(true));
    try {
      assertThat(vertx.isNativeTransportEnabled()).isTrue();
      assertThat(EventLoopTransport.describe(vertx, true)).isEqualTo("transport=epoll");
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void usesNioWhenNotPreferredAndSaysWhy() {
    Vertx vertx = Vertx.vertx(EventLoopTransport.options(false));
    try {
      assertThat(vertx.isNativeTransportEnabled()).isFalse();
      assertThat(EventLoopTransport.describe(vertx, false)).isEqualTo("transport=nio reason=\"--native-transport false\"");
    } finally {
      vertx.close().await();
    }
  }
}
