package dev.gantry.sidecar.routing;

/**
 * Where an endpoint spec takes its sticky key from, as written: exactly one of {@code header}, {@code cookie} or
 * {@code metadata} (a gRPC metadata key), e.g. {@code sticky_key: {header: x-user-id}}.
 */
public record StickyKeySpec(String header, String cookie, String metadata) {}
