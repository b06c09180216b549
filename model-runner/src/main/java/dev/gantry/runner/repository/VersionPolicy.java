package dev.gantry.runner.repository;

import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/** Which of the version folders on disk are served. */
public sealed interface VersionPolicy {
  /** Picks the served versions from those on disk. */
  SortedSet<Long> select(SortedSet<Long> onDisk);

  /** The newest {@code count} versions (the default, with count 1). */
  record Latest(int count) implements VersionPolicy {
    @Override
    public SortedSet<Long> select(SortedSet<Long> onDisk) {
      List<Long> all = List.copyOf(onDisk);
      return new TreeSet<>(all.subList(Math.max(0, all.size() - count), all.size()));
    }
  }

  /** Every version on disk. */
  record All() implements VersionPolicy {
    @Override
    public SortedSet<Long> select(SortedSet<Long> onDisk) {
      return new TreeSet<>(onDisk);
    }
  }

  /** Exactly the listed versions (those missing on disk are an error at load). */
  record Specific(Set<Long> versions) implements VersionPolicy {
    public Specific {
      versions = Set.copyOf(versions);
    }

    @Override
    public SortedSet<Long> select(SortedSet<Long> onDisk) {
      SortedSet<Long> chosen = new TreeSet<>(onDisk);
      chosen.retainAll(versions);
      return chosen;
    }
  }
}
