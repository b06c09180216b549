package dev.gantry.sidecar.experiment;

import dev.gantry.sidecar.core.Documents;

/**
 * Which variant of which experiment served a request, for matching feedback to it (the {@code gantry.feedback} map,
 * keyed by request id, entries expiring after the feedback window and a grace).
 *
 * @param experimentId the experiment's id
 * @param endpoint the endpoint (the experiment's name)
 * @param variant the variant that served the request
 * @param atMillis when it was served (epoch milliseconds)
 * @param rewarded whether feedback was taken for it already
 */
public record Exposure(String experimentId, String endpoint, String variant, long atMillis, boolean rewarded) {
  public String toJson() {
    return Documents.write(this);
  }

  public static Exposure fromJson(String json) {
    return Documents.read(json, Exposure.class);
  }
}
