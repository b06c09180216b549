package dev.gantry.sidecar.adapter;

import io.vertx.ext.web.Router;

/**
 * A protocol front: owns its routes, turns its wire format into the one internal inference
 * request and back, and renders errors in its own shape. The sidecar knows adapters only as
 * this interface.
 */
public interface ProtocolAdapter {
  /** The protocol's label in metrics and logs. */
  String protocol();

  /** Adds the adapter's routes; the body handler and request-id handler are already in place. */
  void mount(Router router, AdapterContext context);
}
