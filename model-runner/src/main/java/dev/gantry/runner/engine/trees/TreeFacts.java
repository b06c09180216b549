package dev.gantry.runner.engine.trees;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * What a tree model's file says about it.
 *
 * @param features the number of feature columns it takes
 * @param objective what its library's {@code predict} gives
 * @param classLabels for a classifier, its class labels in column order (as JSON values: {@code 0},
 *     {@code "setosa"}); empty otherwise
 * @param sklearnClassifier whether it was saved by a scikit-learn-API classifier (XGBClassifier),
 *     whose MLflow pyfunc answers {@code predict()}: labels
 */
record TreeFacts(int features, Objective objective, List<String> classLabels, boolean sklearnClassifier) {
  TreeFacts {
    requireNonNull(objective, "objective");
    classLabels = List.copyOf(classLabels);
  }

  /** What the library's {@code predict} gives, per row. */
  enum Objective {
    /** One value, the probability of the second class. */
    BINARY,
    /** One probability per class. */
    MULTICLASS,
    /** Values as they are: a regression, a ranking score, a raw margin. */
    OTHER
  }
}
