package dev.gantry.runner;

import static java.util.Objects.requireNonNull;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.transport.Transport;

/**
 * Which Netty transport the runner's event loops use: the native one (epoll, from
 * {@code netty-transport-native-epoll} for Linux x86-64) when asked for and available, else Java NIO.
 * Vert.x falls back to NIO by itself where the native library cannot load (another OS or CPU,
 * {@code -Dio.netty.transport.noNative=true}); {@link #describe} says which one it took and why.
 */
final class EventLoopTransport {
  private EventLoopTransport() {}

  /** Vert.x's options with the native transport preferred or not ({@code --native-transport}). */
  static VertxOptions options(boolean preferNative) {
    return new VertxOptions().setPreferNativeTransport(preferNative);
  }

  /**
   * The transport {@code vertx} runs on, and why it is not the native one when that was asked for but
   * could not be used: {@code transport=epoll}, {@code transport=nio reason="..."}.
   */
  static String describe(Vertx vertx, boolean preferNative) {
    requireNonNull(vertx, "vertx");
    if (vertx.isNativeTransportEnabled()) {
      Transport t = Transport.nativeTransport();
      return "transport=" + (t == null ? "native" : t.name());
    }
    if (!preferNative) {
      return "transport=nio reason=\"--native-transport false\"";
    }
    Throwable cause = vertx.unavailableNativeTransportCause();
    return "transport=nio reason=\"native transport unavailable: "
        + (cause == null ? "none for this platform" : cause.toString().replace('"', '\'')) + "\"";
  }
}
