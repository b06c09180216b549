package dev.gantry.runner.grpc;

import io.vertx.core.http.HttpConnection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The gRPC server's open HTTP/2 connections, so that a shutdown can announce itself on each the
 * way RFC 9113 (6.8) asks: a GOAWAY with the last stream id 2^31-1 and NO_ERROR first, which
 * tells clients to open no new streams here while every stream already sent is still served.
 *
 * <p>Why not only {@code HttpServer.shutdown(timeout)}: its GOAWAY names the last stream the
 * server has seen, and a Vert.x 5.0.7 client that then tries one more stream on the connection
 * ("Cannot create stream … greater than Last-Stream-ID") closes every stream it has there,
 * in-flight calls included. After this announcement the server's own graceful close sends no
 * second GOAWAY and waits for the streams.
 */
public final class GrpcConnections {
  private final Set<HttpConnection> open = ConcurrentHashMap.newKeySet();

  /** Register as the gRPC HTTP server's connection handler. */
  public void track(HttpConnection connection) {
    open.add(connection);
    connection.closeHandler(v -> open.remove(connection));
  }

  /** Sends the shutdown announcement on every open connection. */
  public void announceShutdown() {
    for (HttpConnection connection : open) {
      connection.goAway(0, Integer.MAX_VALUE);
    }
  }
}
