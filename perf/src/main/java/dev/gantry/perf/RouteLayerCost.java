package dev.gantry.perf;

import com.google.protobuf.ByteString;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.sidecar.routing.Endpoint;
import dev.gantry.sidecar.routing.EndpointRecord;
import dev.gantry.sidecar.routing.EndpointSpec;
import dev.gantry.sidecar.routing.EndpointSpecParser;
import dev.gantry.sidecar.routing.EndpointTable;
import dev.gantry.sidecar.routing.RouteLayer;
import dev.gantry.sidecar.runner.ModelCatalog;
import dev.gantry.sidecar.runner.RunnerConnection;
import dev.gantry.sidecar.runner.Upstreams;
import io.vertx.core.Vertx;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Map;

/**
 * What the route layer itself costs per request, in process and on one thread: the snapshot read, the sticky hash,
 * the bucket lookup and the rewrite of the request to the variant's model and version, against the same call for a
 * name that is no endpoint (what every request pays). CPU time of this thread per call, cold (the first calls of a
 * fresh JVM) and warm (after a warm-up). Set beside the sidecar's CPU per request from {@code perf/bench-routing.sh}
 * it says what share of a request routing is, without the noise of a whole-process measurement.
 *
 * <p>Usage: {@code perf/route-layer-cost.sh [warm-calls]}
 */
public final class RouteLayerCost {
  private RouteLayerCost() {}

  public static void main(String[] args) throws Exception {
    int warmCalls = args.length > 0 ? Integer.parseInt(args[0]) : 5_000_000;
    Vertx vertx = Vertx.vertx();
    try {
      RunnerConnection local = new RunnerConnection(vertx, "127.0.0.1", 9, 1 << 20, 1024, 60_000);
      Upstreams upstreams = new Upstreams(vertx, local, new ModelCatalog(local, 1_000_000_000L), 1 << 20, 1024,
          60_000, 1_000_000_000L);
      EndpointSpec spec = new EndpointSpecParser().json("{\"name\": \"bench\", \"sticky_key\": {\"header\":"
          + " \"x-user-id\"}, \"variants\": [{\"name\": \"a\", \"model\": \"customer-churn\", \"version\": \"1\","
          + " \"weight\": 50}, {\"name\": \"b\", \"model\": \"customer-churn\", \"version\": \"2\", \"weight\": 50}]}");
      EndpointTable table = new EndpointTable();
      table.reset(Map.of("bench", EndpointRecord.of(1, "2026-11-29T00:00:00Z", "bench", spec, Endpoint.initial(spec))
          .toJson()));
      RouteLayer routes = new RouteLayer(table, upstreams);
      ModelInferRequest request = request();
      String[] keys = new String[1 << 16];
      for (int i = 0; i < keys.length; i++) {
        keys[i] = "user-" + i;
      }
      System.out.println("calls      path         ns/call (thread CPU)");
      for (String phase : new String[] {"cold", "warm"}) {
        int calls = phase.equals("cold") ? 10_000 : warmCalls;
        if (phase.equals("warm")) {
          run(routes, request, keys, "bench", warmCalls);
          run(routes, request, keys, "customer-churn", warmCalls);
        }
        // alternate the two paths so that neither gets the JIT's or the caches' head start
        for (int round = 0; round < (phase.equals("cold") ? 1 : 3); round++) {
          System.out.printf("%-10s %-12s %8.0f  (%s)%n", phase, "no endpoint",
              run(routes, request, keys, "customer-churn", calls), "snapshot lookup only");
          System.out.printf("%-10s %-12s %8.0f  (%s)%n", phase, "endpoint",
              run(routes, request, keys, "bench", calls), "hash, bucket, rewrite to the variant");
        }
      }
    } finally {
      vertx.close().await();
    }
  }

  private static double run(RouteLayer routes, ModelInferRequest request, String[] keys, String model, int calls) {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long sink = 0;
    long start = threads.getCurrentThreadCpuTime();
    for (int i = 0; i < calls; i++) {
      String key = keys[i & (keys.length - 1)];
      RouteLayer.Target t = routes.route(model, model.equals("bench") ? "" : "1",
          h -> h.equals("x-user-id") ? key : null);
      ModelInferRequest routed = t.assignment().isEmpty() ? request
          : request.toBuilder().setModelName(t.model()).setModelVersion(t.version()).build();
      sink += routed.getModelVersion().length();
    }
    long cpu = threads.getCurrentThreadCpuTime() - start;
    if (sink == 42) {
      System.out.println();
    }
    return (double) cpu / calls;
  }

  /** The five-column customer row, as the v2 REST adapter builds it. */
  private static ModelInferRequest request() {
    ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName("bench");
    String[] numeric = {"tenure", "monthly_charges", "total_charges"};
    float[] values = {24, 90, 2160};
    for (int i = 0; i < 3; i++) {
      b.addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName(numeric[i]).setDatatype("FP32")
          .addShape(1).addShape(1).setContents(InferTensorContents.newBuilder().addFp32Contents(values[i])));
    }
    for (String[] s : new String[][] {{"contract_type", "One year"}, {"payment_method", "Bank transfer (automatic)"}}) {
      b.addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName(s[0]).setDatatype("BYTES")
          .addShape(1).addShape(1).setContents(InferTensorContents.newBuilder()
              .addBytesContents(ByteString.copyFromUtf8(s[1]))));
    }
    return b.build();
  }
}
