package dev.gantry.sidecar.routing;

import static java.util.Objects.requireNonNull;

/**
 * Where a variant's requests go: the pod's own runner ({@link Local}, written {@code local} or left out) or a named
 * remote upstream ({@link Remote}, written {@code host:port}, an IPv6 host in brackets).
 */
public sealed interface Upstream permits Upstream.Local, Upstream.Remote {

  /** The pod's own runner. */
  Upstream LOCAL = new Local();

  /** How a spec writes this upstream. */
  String spec();

  /**
   * The upstream a spec names: {@code null}, {@code local} or {@code host:port}.
   *
   * @throws IllegalArgumentException saying what is wrong with it
   */
  static Upstream parse(String spec) {
    if (spec == null || spec.equals("local")) {
      return LOCAL;
    }
    int colon = spec.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("must be 'local' or 'host:port', got '" + spec + "'");
    }
    String host = spec.substring(0, colon);
    String port = spec.substring(colon + 1);
    boolean bracketed = host.startsWith("[") && host.endsWith("]") && host.length() > 2;
    if (host.isBlank() || host.chars().anyMatch(Character::isWhitespace) || (host.contains(":") && !bracketed)) {
      throw new IllegalArgumentException("host of '" + spec + "' is not a host name or address (IPv6 goes in [])");
    }
    if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65_535) {
      throw new IllegalArgumentException("port of '" + spec + "' must be a number from 1 to 65535");
    }
    return new Remote(host, Integer.parseInt(port));
  }

  /** The pod's own runner. */
  record Local() implements Upstream {
    @Override
    public String spec() {
      return "local";
    }
  }

  /** A named remote upstream. */
  record Remote(String host, int port) implements Upstream {
    public Remote {
      requireNonNull(host, "host");
    }

    @Override
    public String spec() {
      return host + ":" + port;
    }
  }
}
