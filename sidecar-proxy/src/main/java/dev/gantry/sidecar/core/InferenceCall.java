package dev.gantry.sidecar.core;

import static java.util.Objects.requireNonNull;

import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.sidecar.runner.Upstreams;
import io.vertx.core.Future;
import java.util.Map;

/**
 * The one internal inference request every protocol adapter produces: the Open Inference
 * request for the runner plus what the request path needs to know about the call.
 *
 * @param protocol the adapter that received it (a metrics label)
 * @param request the request for the runner; its model name and version say where it goes
 * @param requestId the caller's {@code x-request-id}, or one generated for it
 * @param timeoutNanos how long the caller may wait; 0 for the sidecar's default
 * @param metadata headers passed through to the runner (trace context and the like)
 * @param inputBytes size of the payload the caller sent
 * @param abandoned completes if the caller goes away before it is answered (the call is then cancelled)
 * @param upstream where the route layer sends it; null for the pod's own runner
 * @param endpoint the endpoint the request called, "" for none
 * @param variant the endpoint's variant the route layer chose, "" for none
 */
public record InferenceCall(String protocol, ModelInferRequest request, String requestId, long timeoutNanos,
    Map<String, String> metadata, long inputBytes, Future<Void> abandoned, Upstreams.Link upstream, String endpoint,
    String variant) {
  public InferenceCall {
    requireNonNull(abandoned, "abandoned");
    requireNonNull(protocol, "protocol");
    requireNonNull(request, "request");
    requireNonNull(requestId, "requestId");
    metadata = Map.copyOf(metadata);
    requireNonNull(endpoint, "endpoint");
    requireNonNull(variant, "variant");
  }

  /** A call to the pod's own runner. */
  public InferenceCall(String protocol, ModelInferRequest request, String requestId, long timeoutNanos,
      Map<String, String> metadata, long inputBytes, Future<Void> abandoned) {
    this(protocol, request, requestId, timeoutNanos, metadata, inputBytes, abandoned, null, "", "");
  }

  /** This call with another deadline. */
  public InferenceCall withTimeoutNanos(long nanos) {
    return new InferenceCall(protocol, request, requestId, nanos, metadata, inputBytes, abandoned, upstream, endpoint,
        variant);
  }

  /** This call with another request, sent to {@code link}, for a variant ("" for none) of an endpoint. */
  public InferenceCall routed(ModelInferRequest routedRequest, Upstreams.Link link, String endpointName,
      String variantName) {
    return new InferenceCall(protocol, routedRequest, requestId, timeoutNanos, metadata, inputBytes, abandoned, link,
        endpointName, variantName);
  }

  public String model() {
    return request.getModelName();
  }

  public String version() {
    return request.getModelVersion();
  }
}
