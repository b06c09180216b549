package dev.gantry.perf;

import dev.gantry.runner.engine.LoadedModel;
import dev.gantry.runner.engine.ModelLoader;
import dev.gantry.runner.inference.Tensor;
import dev.gantry.runner.repository.ModelDefinition;
import dev.gantry.runner.repository.ModelRepository;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The in-process ceiling: the churn MLP's DJL predictor called in a loop on one thread, with no
 * transport. It runs in a JVM of its own on the runner jar under test ({@link RunnerBenchmark}
 * starts it), and prints one {@link Sample} line, its own CPU and memory included.
 *
 * <p>Arguments: batch size, seconds, the examples' model folder.
 */
public final class EngineCeiling {
  private EngineCeiling() {}

  public static void main(String[] args) throws Exception {
    System.setProperty("ai.djl.offline", "true");
    int batch = Integer.parseInt(args[0]);
    double seconds = Double.parseDouble(args[1]);
    ModelDefinition def = new ModelRepository(Path.of(args[2]), Optional.empty()).read("churn-torchscript");
    try (LoadedModel model = new ModelLoader().load(def.config(), def.versions().get(1L));
        LoadedModel.Instance instance = model.newInstance()) {
      float[] values = new float[batch * 3];
      for (int i = 0; i < batch; i++) {
        values[i * 3] = i % 72;
        values[i * 3 + 1] = 20 + i % 100;
        values[i * 3 + 2] = 100 * (i + 1);
      }
      List<Tensor> inputs = List.of(Tensor.ofFloats("input", new long[] {batch, 3}, values));
      loop(instance, inputs, 2, new LatencyRecorder());
      long pid = ProcessHandle.current().pid();
      long cpu0 = ChildProcesses.cpuTicks(pid);
      LatencyRecorder rec = new LatencyRecorder();
      long start = System.nanoTime();
      long calls = loop(instance, inputs, seconds, rec);
      double took = (System.nanoTime() - start) / 1e9;
      long cpu = ChildProcesses.cpuTicks(pid) - cpu0;
      LatencyRecorder.Result r = rec.result(calls, took, 0);
      System.out.println(Sample.of(r, cpu, ChildProcesses.rssKb(pid) / 1024).line());
    }
  }

  private static long loop(LoadedModel.Instance instance, List<Tensor> inputs, double seconds, LatencyRecorder rec) {
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    long calls = 0;
    while (System.nanoTime() < deadline) {
      long t0 = System.nanoTime();
      instance.run(inputs);
      rec.record(System.nanoTime() - t0);
      calls++;
    }
    return calls;
  }
}
