package dev.gantry.runner.engine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * What a {@code .pt}/{@code .pth} file holds, read from its zip layout without unpickling anything: TorchScript
 * (a {@code code/} folder), a pickled {@code nn.Module} ({@code torch.save(model)}: its {@code data.pkl} starts with
 * the model's class), or a {@code state_dict} ({@code torch.save(model.state_dict())}: it starts with an
 * {@code OrderedDict}). Only TorchScript runs without Python; the others get a refusal that says what to do.
 */
final class TorchArchive {
  private TorchArchive() {}

  /**
   * Why a file is not TorchScript, or empty when it is.
   *
   * @return a message naming what the file holds and how to save TorchScript instead
   */
  static java.util.Optional<String> notTorchScript(Path file) {
    String pickle;
    try (ZipFile zip = new ZipFile(file.toFile())) {
      ZipEntry data = null;
      for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
        ZipEntry entry = e.nextElement();
        if (entry.getName().contains("/code/")) {
          return java.util.Optional.empty();
        }
        if (entry.getName().endsWith("/data.pkl") || entry.getName().equals("data.pkl")) {
          data = entry;
        }
      }
      if (data == null) {
        return java.util.Optional.of(file + " is a zip archive without TorchScript code or a pickled model in it;"
            + " fix: save the model with torch.jit.script(model).save(path) or torch.jit.trace(model, example)"
            + ".save(path)");
      }
      try (InputStream in = zip.getInputStream(data)) {
        pickle = new String(in.readNBytes(512), StandardCharsets.ISO_8859_1);
      }
    } catch (ZipException e) {
      return java.util.Optional.of(file + " is not a TorchScript archive (not a zip: a torch.save file in the legacy"
          + " format, or not a PyTorch file at all); fix: save the model with torch.jit.script(model).save(path)");
    } catch (IOException e) {
      return java.util.Optional.of(file + " cannot be read: " + e.getMessage());
    }
    String first = firstGlobal(pickle);
    if (first.equals("collections.OrderedDict") || first.equals("builtins.dict") || first.equals("__builtin__.dict")) {
      return java.util.Optional.of(file + " holds a state_dict (the weights alone, saved with"
          + " torch.save(model.state_dict())), not a model; fix: build the model in Python, load_state_dict(...),"
          + " then save it as TorchScript with torch.jit.script(model).save(path) (with MLflow:"
          + " mlflow.pytorch.log_model(torch.jit.script(model), \"model\", signature=...))");
    }
    String what = first.startsWith("cloudpickle.") ? "a class defined in the training script (cloudpickle)"
        : first.isEmpty() ? "an unknown class" : first;
    return java.util.Optional.of(file + " is a pickled nn.Module (" + what + ") saved with torch.save(model), which"
        + " only Python with that class can load, not TorchScript; fix: save it with torch.jit.script(model).save(path)"
        + " or torch.jit.trace(model, example).save(path) (with MLflow: mlflow.pytorch.log_model("
        + "torch.jit.script(model), \"model\", signature=...))");
  }

  /** The {@code module.name} of the pickle's first GLOBAL opcode ({@code c<module>\n<name>\n}), or "". */
  private static String firstGlobal(String pickle) {
    int c = pickle.indexOf('c', pickle.startsWith("\u0080") ? 2 : 0);
    if (c < 0) {
      return "";
    }
    int nl = pickle.indexOf('\n', c + 1);
    int nl2 = nl < 0 ? -1 : pickle.indexOf('\n', nl + 1);
    if (nl < 0 || nl2 < 0 || nl2 - c > 200) {
      return "";
    }
    return pickle.substring(c + 1, nl) + "." + pickle.substring(nl + 1, nl2);
  }
}
