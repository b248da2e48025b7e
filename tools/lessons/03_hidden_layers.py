"""Builds source/03_hidden_layers/03_hidden_layers.ipynb: hidden layers, parameters, optimizers."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from notebook_cells import answer, code, grade, intro, md, write

LESSON = "03_hidden_layers"

CELLS = [
    intro(
        """
        # Lesson 03 — Hidden layers, parameter counts and optimizers

        The networks of lessons 01 and 02 connected the inputs straight to the output: whatever
        the output activation, the boundary between two classes was a straight line (a plane).
        Here you meet a problem no straight line can solve, and you will:

        * add **hidden layers** with a non-linear activation (`relu`) and watch them solve it;
        * **count parameters by hand** and check your count against Keras;
        * read the `None` in `model.summary()`;
        * train the same network with six **optimizers** and compare their loss curves.
        """,
        checks="checks your\nmodels itself on test data it loads on its own — printed numbers are never trusted.",
    ),
    md("setup_md", "## Setup"),
    code(
        "setup",
        """
        import numpy as np
        import keras
        import matplotlib.pyplot as plt
        from keras import layers

        from course_lib import checks, data, plots
        from course_lib.inspection import LayerRecord

        print("Keras", keras.__version__)
        """,
    ),
    md(
        "data_md",
        """
        ## Two moons

        1,000 points in the plane, in two interleaving half-moons (with some noise); the label
        says which moon a point belongs to. The course library splits them 75 % / 25 %, so your
        grader uses the same rows. Both features already have a similar, small scale.
        """,
    ),
    code(
        "load",
        """
        moons = data.load_moons_split()
        X_train, X_test, y_train, y_test = moons.X_train, moons.X_test, moons.y_train, moons.y_test
        print("train:", X_train.shape, " test:", X_test.shape)

        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.scatter(X_train[:, 0], X_train[:, 1], c=y_train, s=8, cmap="coolwarm")
        ax.set_title("Two moons (training set)");
        """,
    ),
    md(
        "part_a",
        """
        ### Part A — A linear baseline (1 point, graded in Part B)

        Define `linear_model`: `keras.Input(shape=(2,))` followed by one
        `layers.Dense(1, activation="sigmoid")` — logistic regression, as in lesson 02. Compile it
        with `loss="binary_crossentropy"`, `optimizer=keras.optimizers.Adam(learning_rate=0.01)`
        (ten times Adam's default step, so that a few epochs suffice) and `metrics=["accuracy"]`;
        the `fit` call is given.
        """,
    ),
    answer(
        "part_a_answer",
        """
        keras.backend.clear_session()
        keras.utils.set_random_seed(42)
        ### BEGIN SOLUTION
        linear_model = keras.Sequential([
            keras.Input(shape=(2,)),
            layers.Dense(1, activation="sigmoid"),
        ])
        linear_model.compile(
            loss="binary_crossentropy",
            optimizer=keras.optimizers.Adam(learning_rate=0.01),
            metrics=["accuracy"],
        )
        ### END SOLUTION
        linear_history = linear_model.fit(
            X_train, y_train, epochs=30, batch_size=32, validation_split=0.2, verbose=0
        )
        print("linear model, last validation accuracy:", linear_history.history["val_accuracy"][-1])
        """,
    ),
    md(
        "part_b",
        """
        ### Part B — Hidden layers (6 points)

        A hidden layer sits between the input and the output. With a non-linear activation such
        as `relu` (`max(0, x)`), each hidden unit can bend the boundary a little; together they
        can follow the moons' curve. **Without** an activation a hidden layer adds nothing: a
        linear function of a linear function is still linear, so any stack of linear layers
        equals a single one.

        Define `hidden_model`: `keras.Input(shape=(2,))`, then
        `layers.Dense(16, activation="relu")`, `layers.Dense(16, activation="relu")` and
        `layers.Dense(1, activation="sigmoid")`. Compile it exactly like `linear_model`; the `fit`
        call is given.

        The grader measures both models on the test split: `hidden_model` must reach an accuracy of
        **at least 0.95**, and `linear_model` must be the clearly worse straight-line baseline.
        """,
    ),
    answer(
        "part_b_answer",
        """
        keras.backend.clear_session()
        keras.utils.set_random_seed(42)
        ### BEGIN SOLUTION
        hidden_model = keras.Sequential([
            keras.Input(shape=(2,)),
            layers.Dense(16, activation="relu"),
            layers.Dense(16, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ])
        hidden_model.compile(
            loss="binary_crossentropy",
            optimizer=keras.optimizers.Adam(learning_rate=0.01),
            metrics=["accuracy"],
        )
        ### END SOLUTION
        hidden_history = hidden_model.fit(
            X_train, y_train, epochs=30, batch_size=32, validation_split=0.2, verbose=0
        )
        print("hidden model, last validation accuracy:", hidden_history.history["val_accuracy"][-1])
        """,
    ),
    code(
        "part_b_check",
        """
        # Self-check (not graded), then the learning curves of both models
        checks.check_layers(hidden_model, [
            LayerRecord("Dense", units=16, activation="relu", input_shape=(2,)),
            LayerRecord("Dense", units=16, activation="relu"),
            LayerRecord("Dense", units=1, activation="sigmoid"),
        ])
        checks.check_compile(
            hidden_model, loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"]
        )
        plots.compare_curves({"linear": linear_history, "hidden layers": hidden_history},
                             metric="val_accuracy", title="Validation accuracy on two moons");
        """,
    ),
    grade(LESSON, "hidden_architecture", 2),
    grade(LESSON, "compile_settings", 1),
    grade(LESSON, "quality", 2),
    grade(LESSON, "baseline", 1),
    md(
        "part_c",
        """
        ### Part C — Counting parameters by hand (2 points)

        A `Dense` layer with `n_in` inputs and `n_units` units has one weight for every
        (input, unit) pair and one bias per unit. For example 100 inputs into 10 units:
        100 × 10 weights + 10 biases = **1,010** parameters.

        * Define a function `dense_params(n_in, n_units)` that returns that number as an `int`.
        * Define `hidden_params`: the total number of parameters of `hidden_model`
          (2 → 16 → 16 → 1), computed with `dense_params` (do not call `count_params()`).
        * Define `mlp_params`: the total for a network on 28 × 28 = 784 pixel inputs with one hidden
          `Dense(128)` and an output `Dense(10)`, also with `dense_params`.

        Look at `hidden_model.summary()` below: every output shape starts with `None`. That is
        the **batch dimension** — the number of rows passed at once. The model does not fix it:
        `fit` feeds mini-batches of 32 rows, `predict` may get any number. Parameters never
        depend on it: the same weights are applied to every row.
        """,
    ),
    answer(
        "part_c_answer",
        """
        ### BEGIN SOLUTION
        def dense_params(n_in, n_units):
            return n_in * n_units + n_units


        hidden_params = dense_params(2, 16) + dense_params(16, 16) + dense_params(16, 1)
        mlp_params = dense_params(784, 128) + dense_params(128, 10)
        ### END SOLUTION
        hidden_model.summary()
        print("hidden_model by hand:", hidden_params, "  MLP by hand:", mlp_params)
        """,
    ),
    code(
        "part_c_check",
        """
        # Self-check (not graded)
        checks.check_answer_int("dense_params(100, 10)", dense_params(100, 10), 1010)
        checks.check_answer_int("hidden_params", hidden_params, hidden_model.count_params())
        print("Part C looks right: Keras counts", hidden_model.count_params(), "parameters too")
        """,
    ),
    grade(LESSON, "parameter_count", 2),
    md(
        "part_d",
        """
        ### Part D — Optimizers (2 points)

        The optimizer decides how the weights move along the gradient.

        * **SGD** takes a step of fixed size `learning_rate` down the gradient.
        * **Momentum** keeps a running velocity: past gradients keep pushing, which speeds up
          progress along consistent directions and damps zig-zags.
        * **Nesterov** momentum looks ahead: it evaluates the gradient where the velocity is
          about to carry the weights.
        * **Adagrad** and **RMSprop** adapt the step of every weight to the size of its past
          gradients (Adagrad sums all of them, so its steps only shrink; RMSprop uses a moving
          average, so they can recover).
        * **Adam** combines momentum with RMSprop's adaptive steps.

        Define `optimizers`, a dict of six **optimizer objects** with exactly these keys and
        settings:

        | key | object |
        |---|---|
        | `"sgd"` | `keras.optimizers.SGD(learning_rate=0.1)` |
        | `"momentum"` | `keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)` |
        | `"nesterov"` | `keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True)` |
        | `"adagrad"` | `keras.optimizers.Adagrad(learning_rate=0.1)` |
        | `"rmsprop"` | `keras.optimizers.RMSprop(learning_rate=0.01)` |
        | `"adam"` | `keras.optimizers.Adam(learning_rate=0.01)` |

        The next cell trains a fresh copy of `hidden_model` (`keras.models.clone_model`: same
        architecture, new random weights) with each of them and plots the training loss.
        """,
    ),
    answer(
        "part_d_answer",
        """
        ### BEGIN SOLUTION
        optimizers = {
            "sgd": keras.optimizers.SGD(learning_rate=0.1),
            "momentum": keras.optimizers.SGD(learning_rate=0.1, momentum=0.9),
            "nesterov": keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
            "adagrad": keras.optimizers.Adagrad(learning_rate=0.1),
            "rmsprop": keras.optimizers.RMSprop(learning_rate=0.01),
            "adam": keras.optimizers.Adam(learning_rate=0.01),
        }
        ### END SOLUTION
        for name, optimizer in optimizers.items():
            print(f"{name:<9}", type(optimizer).__name__, optimizer.get_config()["learning_rate"])
        """,
    ),
    grade(LESSON, "optimizers", 2),
    code(
        "optimizer_runs",
        """
        # Train the same architecture with each optimizer (a fresh copy of each optimizer too:
        # an optimizer object keeps state for the model it trained)
        optimizer_histories = {}
        for name, optimizer in optimizers.items():
            keras.utils.set_random_seed(0)
            candidate = keras.models.clone_model(hidden_model)
            fresh_optimizer = type(optimizer).from_config(optimizer.get_config())
            candidate.compile(
                loss="binary_crossentropy", optimizer=fresh_optimizer, metrics=["accuracy"]
            )
            history = candidate.fit(X_train, y_train, epochs=10, batch_size=32, verbose=0)
            optimizer_histories[name] = history
            print(f"{name:<9} final training loss {history.history['loss'][-1]:.3f}")
        plots.compare_curves(optimizer_histories, metric="loss", title="Training loss");
        """,
    ),
    md(
        "wrap_up",
        """
        ## What you learned

        * Hidden layers only help with a non-linear activation: stacked linear layers collapse
          into one linear layer.
        * `Dense(n_units)` on `n_in` inputs has `n_in × n_units + n_units` parameters.
        * The `None` in an output shape is the batch dimension, left open on purpose.
        * Optimizers differ in how they step: plain SGD, with momentum (Nesterov looks ahead),
          adaptive per-weight steps (Adagrad, RMSprop), or both (Adam).
        """,
    ),
]

if __name__ == "__main__":
    print(write(LESSON, CELLS))
