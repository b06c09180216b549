package dev.gantry.runner.inference;

/**
 * Turns a protocol's request into an {@link InferRequest} once the model it names is known, so
 * that the declared shapes are checked against the model's signature (see
 * {@link RequestValidator#checkDeclared}) before any data is decoded or allocated from them.
 */
@FunctionalInterface
public interface RequestDecoder {
  /**
   * @param model the model's name, for messages
   * @param signature the served version's signature
   * @throws InferenceException INVALID_ARGUMENT naming the input and what is wrong
   */
  InferRequest decode(String model, ModelSignature signature);

  /** A decoder for a request that is already decoded. */
  static RequestDecoder of(InferRequest request) {
    return (model, signature) -> request;
  }
}
