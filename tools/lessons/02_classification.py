"""Builds source/02_classification/02_classification.ipynb: binary and multi-class outputs."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from notebook_cells import answer, code, grade, intro, md, write

LESSON = "02_classification"

CELLS = [
    intro(
        """
        # Lesson 02 — Classification: sigmoid, softmax and cross-entropy

        In lesson 01 the network ended in one linear unit because the answer was a number.
        Here the answer is a **class**. You will build three small networks:

        * a **binary** classifier (is a tumour malignant or benign?) ending in one `sigmoid` unit,
          trained with `binary_crossentropy`;
        * a **multi-class** classifier (which of three wine cultivars?) ending in three `softmax`
          units, trained **twice**: once on one-hot targets with `categorical_crossentropy`, once
          on integer targets with `sparse_categorical_crossentropy`;
        * and you will turn predicted probabilities into class labels (threshold 0.5 / `argmax`).
        """,
        checks="checks your\nmodels itself on test data it loads on its own — printed numbers are never trusted.",
    ),
    md("setup_md", "## Setup"),
    code(
        "setup",
        """
        import numpy as np
        import keras
        from keras import layers

        from course_lib import checks, data, plots
        from course_lib.inspection import LayerRecord

        print("Keras", keras.__version__)
        """,
    ),
    md(
        "data_md",
        """
        ## The data

        * **Breast cancer** (scikit-learn): 569 tumours, 30 measurements each, label `0`
          (malignant) or `1` (benign).
        * **Wine** (scikit-learn): 178 wines, 13 chemical measurements, label `0`, `1` or `2`
          (the cultivar).

        The course library splits both data sets once and for all (stratified), so your grader
        uses the same rows. The features are standardised with the **training** statistics,
        as you did in lesson 01; that part is done for you here.
        """,
    ),
    code(
        "load",
        """
        cancer = data.load_breast_cancer_split()
        mean, std = cancer.X_train.mean(axis=0), cancer.X_train.std(axis=0)
        X_cancer_train = (cancer.X_train - mean) / std
        X_cancer_test = (cancer.X_test - mean) / std
        y_cancer_train, y_cancer_test = cancer.y_train, cancer.y_test

        wine = data.load_wine_split()
        mean, std = wine.X_train.mean(axis=0), wine.X_train.std(axis=0)
        X_wine_train = (wine.X_train - mean) / std
        X_wine_test = (wine.X_test - mean) / std
        y_wine_train, y_wine_test = wine.y_train, wine.y_test
        n_classes = 3

        print("cancer:", X_cancer_train.shape, X_cancer_test.shape, np.bincount(y_cancer_train))
        print("wine:  ", X_wine_train.shape, X_wine_test.shape, "labels", np.bincount(y_wine_train))
        """,
    ),
    md(
        "part_a",
        """
        ### Part A — A binary classifier (3 points)

        For two classes the network needs **one** output: the probability that the label is 1.
        The `sigmoid` activation squeezes any number into (0, 1), so it can be read as that
        probability. The matching loss is `binary_crossentropy`: it is small when the predicted
        probability of the true label is close to 1, and grows without bound as it approaches 0.

        Define `binary_model`: a `keras.Sequential` of `keras.Input(shape=(30,))` and one
        `layers.Dense(1, activation="sigmoid")`. Compile it with `loss="binary_crossentropy"`,
        `optimizer="adam"`, `metrics=["accuracy"]`, and train it on `X_cancer_train`,
        `y_cancer_train` with the `fit` call given (keep its result in `binary_history`).
        """,
    ),
    answer(
        "part_a_answer",
        """
        keras.backend.clear_session()
        keras.utils.set_random_seed(42)
        ### BEGIN SOLUTION
        binary_model = keras.Sequential([
            keras.Input(shape=(30,)),
            layers.Dense(1, activation="sigmoid"),
        ])
        binary_model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
        ### END SOLUTION
        binary_model.summary()
        binary_history = binary_model.fit(
            X_cancer_train, y_cancer_train,
            epochs=30, batch_size=16, validation_split=0.2, verbose=0,
        )
        print("last validation accuracy:", round(binary_history.history["val_accuracy"][-1], 3))
        """,
    ),
    code(
        "part_a_check",
        """
        # Self-check (not graded)
        expected = [LayerRecord("Dense", units=1, activation="sigmoid", input_shape=(30,))]
        checks.check_layers(binary_model, expected)
        checks.check_compile(
            binary_model, loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"]
        )
        print("Part A looks right")
        """,
    ),
    grade(LESSON, "binary_architecture", 2),
    grade(LESSON, "binary_compile", 1),
    md(
        "part_b",
        """
        ### Part B — From probabilities to labels (2 points)

        `binary_model.predict` returns an array of shape `(n, 1)`: one probability per tumour.
        A label is obtained by comparing it with the threshold 0.5.

        Define `binary_pred`: the predicted labels of `X_cancer_test`, a one-dimensional array of
        **integers** 0/1 of shape `(n_test,)` — flatten with `.ravel()`, compare with `0.5`, then
        `.astype("int64")`. The confusion matrix below counts, for every true label, how often each
        label was predicted.
        """,
    ),
    answer(
        "part_b_answer",
        """
        ### BEGIN SOLUTION
        binary_probabilities = binary_model.predict(X_cancer_test, verbose=0).ravel()
        binary_pred = (binary_probabilities > 0.5).astype("int64")
        ### END SOLUTION
        accuracy = (binary_pred == y_cancer_test).mean()
        print(binary_pred.shape, binary_pred.dtype, "test accuracy:", accuracy.round(3))
        """,
    ),
    code(
        "part_b_check",
        """
        # Self-check (not graded), then the confusion matrix
        checks.check_array("binary_pred", binary_pred, shape=(len(y_cancer_test),), dtype="int64")
        plots.confusion_matrix(y_cancer_test, binary_pred, labels=["malignant", "benign"]);
        """,
    ),
    md(
        "part_c",
        """
        ### Part C — Three classes with one-hot targets (3 points)

        For `k` classes the network needs `k` outputs, one score per class. The `softmax`
        activation turns those scores into `k` probabilities that add up to 1.
        `categorical_crossentropy` compares that probability vector with a **one-hot** target:
        class 2 of 3 is written `[0, 0, 1]`.

        * Define `y_wine_train_onehot = keras.utils.to_categorical(y_wine_train, n_classes)`
          (shape `(n_train, 3)`).
        * Define `onehot_model`: `keras.Input(shape=(13,))` then
          `layers.Dense(3, activation="softmax")`,
          compiled with `loss="categorical_crossentropy"`,
          `optimizer=keras.optimizers.Adam(learning_rate=0.01)` (Adam with ten times its default
          step: with only 133 wines, the default would need hundreds of epochs) and
          `metrics=["accuracy"]`, and trained on `X_wine_train`, `y_wine_train_onehot` with the
          `fit` call given.
        """,
    ),
    answer(
        "part_c_answer",
        """
        keras.backend.clear_session()
        keras.utils.set_random_seed(42)
        ### BEGIN SOLUTION
        y_wine_train_onehot = keras.utils.to_categorical(y_wine_train, n_classes)
        onehot_model = keras.Sequential([
            keras.Input(shape=(13,)),
            layers.Dense(n_classes, activation="softmax"),
        ])
        onehot_model.compile(
            loss="categorical_crossentropy",
            optimizer=keras.optimizers.Adam(learning_rate=0.01),
            metrics=["accuracy"],
        )
        ### END SOLUTION
        onehot_model.summary()
        onehot_history = onehot_model.fit(
            X_wine_train, y_wine_train_onehot,
            epochs=30, batch_size=16, validation_split=0.2, verbose=0,
        )
        print("first one-hot rows:", y_wine_train_onehot[:3].tolist())
        """,
    ),
    md(
        "part_d",
        """
        ### Part D — The same network on integer targets (1 point, graded with Part C)

        Writing every target as a one-hot row is not necessary: `sparse_categorical_crossentropy`
        computes exactly the same loss directly from the integer label (it reads the predicted
        probability at that index). Use it whenever your labels are integers `0 … k-1`.
        The output layer does not change: still `k` softmax units.

        * Define `y_wine_train_sparse`: the integer training labels as they are (`y_wine_train`).
        * Define `sparse_model`, the same architecture as `onehot_model`, compiled with
          `loss="sparse_categorical_crossentropy"`, the same optimizer and `metrics=["accuracy"]`,
          and trained on `X_wine_train`, `y_wine_train_sparse` with the `fit` call given.
        * Define `wine_pred`: the predicted class of every row of `X_wine_test` by `sparse_model`,
          as integers of shape `(n_test,)` — the index of the largest probability,
          `np.argmax(..., axis=1)`.

        Mixing the two up fails: `sparse_categorical_crossentropy` on one-hot rows, or
        `categorical_crossentropy` on integers, makes `fit` stop with a shape error.
        """,
    ),
    answer(
        "part_d_answer",
        """
        keras.backend.clear_session()
        keras.utils.set_random_seed(42)
        ### BEGIN SOLUTION
        y_wine_train_sparse = y_wine_train
        sparse_model = keras.Sequential([
            keras.Input(shape=(13,)),
            layers.Dense(n_classes, activation="softmax"),
        ])
        sparse_model.compile(
            loss="sparse_categorical_crossentropy",
            optimizer=keras.optimizers.Adam(learning_rate=0.01),
            metrics=["accuracy"],
        )
        ### END SOLUTION
        sparse_history = sparse_model.fit(
            X_wine_train, y_wine_train_sparse,
            epochs=30, batch_size=16, validation_split=0.2, verbose=0,
        )
        """,
    ),
    answer(
        "part_d_pred_answer",
        """
        ### BEGIN SOLUTION
        wine_pred = np.argmax(sparse_model.predict(X_wine_test, verbose=0), axis=1)
        ### END SOLUTION
        accuracy = (wine_pred == y_wine_test).mean()
        print(wine_pred.shape, wine_pred.dtype, "test accuracy:", accuracy.round(3))
        """,
    ),
    code(
        "part_d_check",
        """
        # Self-check (not graded), then the confusion matrix
        for name, m in (("onehot_model", onehot_model), ("sparse_model", sparse_model)):
            expected = [LayerRecord("Dense", units=3, activation="softmax", input_shape=(13,))]
            checks.check_layers(m, expected)
        checks.check_array("y_wine_train_onehot", y_wine_train_onehot, shape=(len(y_wine_train), 3))
        checks.check_array("y_wine_train_sparse", y_wine_train_sparse, shape=(len(y_wine_train),))
        checks.check_array("wine_pred", wine_pred, shape=(len(y_wine_test),))
        cultivars = ["cultivar 0", "cultivar 1", "cultivar 2"]
        plots.confusion_matrix(y_wine_test, wine_pred, labels=cultivars);
        """,
    ),
    grade(LESSON, "multiclass_architecture", 2),
    grade(LESSON, "multiclass_compile", 2),
    grade(LESSON, "predictions", 2),
    md(
        "part_e",
        """
        ### Part E — The decision table (2 points)

        Summarise the three lessons so far. Define `decision_table`, a dict with exactly the
        keys `"regression"`, `"binary"` and `"multiclass"`; each value is a dict with the keys
        `"activation"` (the output layer's activation), `"loss"` and `"metric"` (one metric you
        would report), all written as the strings you would pass to Keras. For `"multiclass"`,
        give the loss for **one-hot** targets. A linear output may be written `"linear"` or `None`.
        """,
    ),
    answer(
        "part_e_answer",
        """
        ### BEGIN SOLUTION
        decision_table = {
            "regression": {"activation": "linear", "loss": "mse", "metric": "mae"},
            "binary": {
                "activation": "sigmoid",
                "loss": "binary_crossentropy",
                "metric": "accuracy",
            },
            "multiclass": {
                "activation": "softmax",
                "loss": "categorical_crossentropy",
                "metric": "accuracy",
            },
        }
        ### END SOLUTION
        for task, row in decision_table.items():
            print(f"{task:<12}", row)
        """,
    ),
    grade(LESSON, "decision_table", 2),
    md(
        "part_f",
        """
        ### Part F — Accuracy (2 points)

        Nothing new to write: the grader measures the test accuracy of `binary_model`,
        `onehot_model` and `sparse_model` on the test splits it loads itself: `binary_model` must
        reach **at least 0.90**, the two wine models **at least 0.93** (always predicting the most
        frequent class scores 0.63 on breast cancer and 0.40 on wine).
        """,
    ),
    grade(LESSON, "quality", 2),
    md("plots_md", "## Learning curves"),
    code(
        "plots",
        """
        # Figures only
        plots.learning_curves(binary_history, metrics=("loss", "accuracy"), title="Breast cancer");
        plots.compare_curves(
            {"one-hot + categorical": onehot_history, "integers + sparse": sparse_history},
            metric="val_accuracy",
            title="Wine: two encodings, same network",
        );
        """,
    ),
    md(
        "wrap_up",
        """
        ## What you learned

        | task | output units | activation | loss | metric |
        |---|---|---|---|---|
        | regression | 1 | none (linear) | `mse` | `mae` |
        | binary | 1 | `sigmoid` | `binary_crossentropy` | `accuracy` |
        | k classes, one-hot | k | `softmax` | `categorical_crossentropy` | `accuracy` |
        | k classes, integers | k | `softmax` | `sparse_categorical_crossentropy` | `accuracy` |

        * A sigmoid unit gives one probability; softmax gives one per class, summing to 1
          (softmax on a single unit would always output 1).
        * The loss must match how the targets are written: one-hot rows → categorical,
          integer labels → sparse categorical.
        * Labels come from probabilities by a threshold (binary) or `argmax` (multi-class).
        """,
    ),
]

if __name__ == "__main__":
    print(write(LESSON, CELLS))
