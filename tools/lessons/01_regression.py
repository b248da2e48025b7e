"""Builds source/01_regression/01_regression.ipynb: Sequential linear regression."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from notebook_cells import answer, code, grade, intro, md, write

LESSON = "01_regression"

CELLS = [
    intro(
        """
        # Lesson 01 — Linear regression with the Sequential API

        You will predict a number — how far a patient's diabetes has progressed one year after
        a check-up — from ten measurements taken at that check-up. Along the way you will learn:

        * why a regression network ends in **one unit with no activation** (a *linear* unit);
        * why such a model has exactly **n + 1 parameters** for n input features;
        * why features are **standardised with the training set's statistics only**;
        * the Keras workflow `clear_session` → `Sequential` → `compile` → `fit` → `evaluate` → `predict`.
        """,
        checks="checks your\nmodel itself on data it loads on its own — printed numbers are never trusted.",
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
        ## Prepare the data

        scikit-learn ships the *diabetes* data set: 442 patients, 10 numeric features (age, sex,
        body-mass index, blood pressure and six blood serum measurements) and a target, a
        measure of disease progression one year later (roughly 25 to 350). The course library
        splits it once and for all into 80 % training and 20 % test rows, so your grader uses
        the very same split.
        """,
    ),
    code(
        "load",
        """
        split = data.load_diabetes_split()
        X_train, X_test = split.X_train, split.X_test
        y_train, y_test = split.y_train, split.y_test
        n_features = X_train.shape[1]
        print("train:", X_train.shape, " test:", X_test.shape, " first targets:", y_train[:5])
        """,
    ),
    md(
        "part_a",
        """
        ### Part A — Standardise features and target (2 points)

        Gradient descent works best when every input has a similar scale, and Adam's default
        step size (0.001) suits targets of about unit size, not values around 150.

        Define:

        * `X_train_scaled`, `X_test_scaled`: every feature column minus the **training** mean,
          divided by the **training** standard deviation (`X_train.mean(axis=0)`,
          `X_train.std(axis=0)`). The test set must be transformed with the training statistics:
          its own statistics would let information about the test set leak into the model.
        * `y_mean`, `y_std`: mean and standard deviation of `y_train`;
          `y_train_scaled = (y_train - y_mean) / y_std`. You will use `y_mean` and `y_std` to turn
          predictions back into disease-progression units.
        """,
    ),
    answer(
        "part_a_answer",
        """
        ### BEGIN SOLUTION
        feature_mean = X_train.mean(axis=0)
        feature_std = X_train.std(axis=0)
        X_train_scaled = (X_train - feature_mean) / feature_std
        X_test_scaled = (X_test - feature_mean) / feature_std

        y_mean, y_std = y_train.mean(), y_train.std()
        y_train_scaled = (y_train - y_mean) / y_std
        ### END SOLUTION
        """,
    ),
    code(
        "part_a_check",
        """
        # Self-check (not graded)
        checks.check_standardised("X_train_scaled", X_train_scaled, X_train, X_train)
        checks.check_standardised("X_test_scaled", X_test_scaled, X_test, X_train, leak_reference=X_test)
        checks.check_standardised("y_train_scaled", y_train_scaled, y_train, y_train)
        print("Part A looks right:", X_train_scaled.mean(axis=0).round(2)[:3], X_train_scaled.std(axis=0).round(2)[:3])
        """,
    ),
    grade(LESSON, "preprocessing", 2),
    md(
        "part_b",
        """
        ### Part B — Build the model (2 points)

        A linear regression *is* a neural network with a single unit and no activation:
        it computes `w · x + b`, one weight per feature plus one bias. An activation such as
        `relu` or `sigmoid` would bend or clip that output, but a regression target may be any
        real number, so the output layer stays **linear** (`activation=None`, the default).

        Define `model` as a `keras.Sequential` model made of `keras.Input(shape=(n_features,))`
        followed by one `layers.Dense(1)`. Declaring the input shape lets Keras build the
        model (and count its parameters) right away.
        """,
    ),
    answer(
        "part_b_answer",
        """
        keras.backend.clear_session()
        keras.utils.set_random_seed(42)
        ### BEGIN SOLUTION
        model = keras.Sequential([
            keras.Input(shape=(n_features,)),
            layers.Dense(1),
        ])
        ### END SOLUTION
        model.summary()
        """,
    ),
    code(
        "part_b_check",
        """
        # Self-check (not graded)
        checks.check_layers(model, [LayerRecord("Dense", units=1, activation="linear", input_shape=(n_features,))])
        print("Part B looks right")
        """,
    ),
    grade(LESSON, "architecture", 2),
    md(
        "part_c",
        """
        ### Part C — Count the parameters (1 point)

        `model.summary()` shows a *Param #* column and an output shape `(None, 1)`: `None` is
        the batch dimension, left open so any number of rows can go through the model at once.

        Work out by hand how many parameters a `Dense(1)` layer on `n_features` inputs has, and
        set `n_params` to that number as an `int` expression of `n_features`
        (do not call `model.count_params()`).
        """,
    ),
    answer(
        "part_c_answer",
        """
        ### BEGIN SOLUTION
        n_params = n_features * 1 + 1
        ### END SOLUTION
        print(n_params)
        """,
    ),
    grade(LESSON, "parameter_count", 1),
    md(
        "part_d",
        """
        ### Part D — Compile (2 points)

        Compile `model` with

        * `loss="mse"` — the mean squared error, what the model minimises;
        * `optimizer="adam"` — a gradient-descent variant with adaptive step sizes;
        * `metrics=["mae"]` — the mean absolute error, reported but not optimised: it is in
          the target's own units, which makes it easy to read.
        """,
    ),
    answer(
        "part_d_answer",
        """
        ### BEGIN SOLUTION
        model.compile(loss="mse", optimizer="adam", metrics=["mae"])
        ### END SOLUTION
        """,
    ),
    grade(LESSON, "compile_settings", 2),
    md(
        "part_e",
        """
        ### Part E — Train, evaluate and predict (3 points)

        Train `model` on the scaled training data and keep the result in `history`:
        `model.fit(X_train_scaled, y_train_scaled, epochs=epochs, batch_size=batch_size,
        validation_split=0.2, verbose=0)`. Then

        * `test_mse, test_mae = model.evaluate(...)` on `X_test_scaled` and the test target scaled
          with `y_mean`/`y_std` (the numbers are in scaled units);
        * `y_pred`: predictions for `X_test_scaled`, flattened with `.ravel()` and turned back
          into disease-progression units (`* y_std + y_mean`).

        The grader measures your model's mean absolute error on the test split itself, in
        disease-progression units: it must be **at most 49** (a model that always predicts
        the training mean scores about 64).
        """,
    ),
    answer(
        "part_e_answer",
        """
        epochs = 100
        batch_size = 16
        ### BEGIN SOLUTION
        history = model.fit(
            X_train_scaled, y_train_scaled,
            epochs=epochs, batch_size=batch_size, validation_split=0.2, verbose=0,
        )
        test_mse, test_mae = model.evaluate(X_test_scaled, (y_test - y_mean) / y_std, verbose=0)
        y_pred = model.predict(X_test_scaled, verbose=0).ravel() * y_std + y_mean
        ### END SOLUTION
        print(f"test MAE: {np.abs(y_pred - y_test).mean():.1f} (scaled units: {test_mae:.3f})")
        """,
    ),
    grade(LESSON, "quality", 3),
    md(
        "plots_md",
        """
        ## Look at the result

        The learning curves show the loss falling on the training rows and on the 20 % held
        out for validation. In the scatter plot every dot is a test patient: dots on the
        diagonal are perfect predictions.
        """,
    ),
    code(
        "plots",
        """
        # Figures only: learning curves, then predicted vs actual
        plots.learning_curves(history, metrics=("loss", "mae"));
        plots.predicted_vs_actual(y_test, y_pred, title="Disease progression: predicted vs actual");
        """,
    ),
    md(
        "wrap_up",
        """
        ## What you learned

        * A regression network ends in `Dense(1)` with no activation: its output can be any number.
        * That layer has one weight per input plus one bias: `n_features + 1` parameters.
        * Scale features (and here the target) with **training** statistics only; apply the same
          transformation to the test set.
        * `compile` chooses what to minimise (`loss`), how (`optimizer`) and what to report
          (`metrics`); `fit` learns, `evaluate` measures, `predict` answers.
        """,
    ),
]

if __name__ == "__main__":
    print(write(LESSON, CELLS))
