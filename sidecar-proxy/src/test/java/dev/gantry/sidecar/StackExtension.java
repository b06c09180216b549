package dev.gantry.sidecar;

import dev.gantry.runner.ModelRunner;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts a real runner on the example models and a real sidecar in front of it once per test
 * class: {@code @RegisterExtension static final StackExtension stack = new StackExtension(model)}.
 */
public final class StackExtension implements BeforeAllCallback, AfterAllCallback {
  private final String defaultModel;
  private Stack stack;

  /** @param defaultModel the sidecar's default model, or null for none */
  public StackExtension(String defaultModel) {
    this.defaultModel = defaultModel;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    stack = Stack.start(defaultModel);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    stack.close();
  }

  public Http http() {
    return stack.http;
  }

  public ModelRunner runner() {
    return stack.runner;
  }

  public Sidecar sidecar() {
    return stack.sidecar;
  }
}
