package dev.gantry.sidecar.routing;

/**
 * One variant of an endpoint spec, as written. {@link EndpointSpec#problems()} says what is wrong with it.
 *
 * @param name the variant's name, unique in its endpoint, also what {@code x-gantry-variant} names
 * @param model the model the runner serves it as
 * @param version the model version; absent means the runner's default
 * @param upstream {@code local} (or absent) for the pod's own runner, or {@code host:port}
 * @param weight whole percent of the endpoint's traffic, 0 to 100
 */
public record VariantSpec(String name, String model, String version, String upstream, Integer weight) {}
