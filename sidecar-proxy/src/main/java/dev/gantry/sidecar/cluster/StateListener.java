package dev.gantry.sidecar.cluster;

import java.util.Map;

/**
 * Hears the changes to one kind of cluster state. Calls for one kind come one at a time, in the order the changes
 * were made to each entry; they may come on any thread, never on an event loop that serves requests.
 */
public interface StateListener {
  /** The whole state of the kind, replacing whatever was heard before (at start, and after a cluster merge). */
  void reset(Map<String, String> all);

  /** An entry was created or replaced. */
  void put(String name, String document);

  /** An entry was deleted. */
  void remove(String name);
}
