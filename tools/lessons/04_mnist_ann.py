"""Builds source/04_mnist_ann/04_mnist_ann.ipynb: an MLP on MNIST with early stopping."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from notebook_cells import answer, code, grade, intro, md, write

LESSON = "04_mnist_ann"

CELLS = [
    intro(
        """
        # Lesson 04 — Handwritten digits with a multi-layer network

        MNIST is the "hello world" of deep learning: 70,000 grey-scale pictures of handwritten
        digits, 28 × 28 pixels each, labelled 0 to 9. You will train a network with a **hidden
        layer** to read them and learn:

        * why pixels are **min-max scaled** to [0, 1] before training;
        * how `Flatten` turns an image into a vector a `Dense` layer can use;
        * what a hidden layer adds: the network builds its own features from the pixels
          instead of weighing each pixel on its own;
        * how **early stopping** ends training when the validation loss stops improving, and
          why the best epoch's weights should be restored;
        * how to **save** a trained model to a `.keras` file and load it back.
        """,
        checks="measures your\nmodel itself on the 10,000 test digits it loads on its own.",
    ),
    md("setup_md", "## Setup"),
    code(
        "setup",
        """
        import numpy as np
        import keras
        from keras import layers

        from course_lib import checks, data, plots, training_checks

        print("Keras", keras.__version__)
        """,
    ),
    md(
        "data_md",
        """
        ## Load the data

        `keras.datasets.mnist.load_data()` returns 60,000 training and 10,000 test images as
        `uint8` arrays (pixel values 0 = white paper to 255 = black ink) and their labels as
        integers 0–9. The course library calls exactly that function.
        """,
    ),
    code(
        "load",
        """
        (x_train, y_train), (x_test, y_test) = data.load_mnist()
        print("train:", x_train.shape, x_train.dtype, " test:", x_test.shape)
        print("first labels:", y_train[:10])
        plots.image_grid(x_train[:16], titles=y_train[:16], title="First training digits");
        """,
    ),
    md(
        "part_a",
        """
        ### Part A — Scale the pixels (2 points)

        Inputs in the hundreds make the first layer's outputs large and the gradients uneven;
        networks train faster and more reliably on inputs of about unit size. *Min-max scaling*
        maps the smallest possible value to 0 and the largest to 1: for pixels that is
        dividing by 255.

        Define `X_train_scaled` and `X_test_scaled`: `x_train` and `x_test` divided by 255,
        converted to `float32` (Keras computes in 32-bit floats), still of shape
        `(n_images, 28, 28)`.
        """,
    ),
    answer(
        "part_a_answer",
        """
        ### BEGIN SOLUTION
        X_train_scaled = (x_train / 255.0).astype("float32")
        X_test_scaled = (x_test / 255.0).astype("float32")
        ### END SOLUTION
        """,
    ),
    code(
        "part_a_check",
        """
        # Self-check (not graded)
        training_checks.check_pixels_scaled("X_train_scaled", X_train_scaled, x_train)
        training_checks.check_pixels_scaled("X_test_scaled", X_test_scaled, x_test)
        print("Part A looks right:", X_train_scaled.dtype, X_train_scaled.max())
        """,
    ),
    grade(LESSON, "preprocessing", 2),
    md(
        "part_b",
        """
        ### Part B — Build the network (2 points)

        Define `model` as a `keras.Sequential` model:

        1. `keras.Input(shape=(28, 28))`;
        2. `layers.Flatten()`: the 28 × 28 image becomes a vector of 784 numbers;
        3. a hidden layer `layers.Dense(256, activation="relu")` — each of its units combines
           all 784 pixels into one new feature; ReLU keeps the positive part, which lets
           stacked layers represent more than a straight line;
        4. `layers.Dropout(0.2)`: during training only, it zeroes a random 20 % of the hidden
           features at every step, so the network cannot rely on any single one — it
           memorises less and generalises better;
        5. the output layer `layers.Dense(10, activation="softmax")`: one unit per digit,
           softmax turns the ten scores into probabilities that add up to 1.

        (Another width between 32 and 1024, or a second hidden ReLU layer, is accepted too;
        Dropout is recommended, not required.)
        """,
    ),
    answer(
        "part_b_answer",
        """
        keras.backend.clear_session()
        keras.utils.set_random_seed(4)
        ### BEGIN SOLUTION
        model = keras.Sequential([
            keras.Input(shape=(28, 28)),
            layers.Flatten(),
            layers.Dense(256, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ])
        ### END SOLUTION
        model.summary()
        """,
    ),
    code(
        "part_b_check",
        """
        # Self-check (not graded)
        training_checks.check_mlp(model)
        print("Part B looks right")
        """,
    ),
    grade(LESSON, "architecture", 2),
    md(
        "part_c",
        """
        ### Part C — Compile (1 point)

        Compile `model` with `loss="sparse_categorical_crossentropy"`, `optimizer="adam"` and
        `metrics=["accuracy"]`.

        *Sparse* categorical cross-entropy takes the labels as they are, integers 0–9. Plain
        `categorical_crossentropy` expects one-hot rows such as `[0, 0, 1, 0, …]` instead and
        cannot be used with integer labels.
        """,
    ),
    answer(
        "part_c_answer",
        """
        ### BEGIN SOLUTION
        model.compile(
            loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"]
        )
        ### END SOLUTION
        """,
    ),
    grade(LESSON, "compile_settings", 1),
    md(
        "part_d",
        """
        ### Part D — Early stopping (2 points)

        How many epochs are enough? Too few and the model underfits; too many and it starts to
        memorise the training images: the training loss keeps falling while the loss on
        held-out images rises. Instead of guessing, give `fit` a large epoch budget and let a
        *callback* watch the validation loss after every epoch.

        Define `early_stopping = keras.callbacks.EarlyStopping(...)` with

        * `monitor="val_loss"` — the value to watch;
        * `patience=3` — epochs without improvement to wait before stopping;
        * `min_delta=0.001` — a smaller decrease does not count as an improvement;
        * `restore_best_weights=True` — when it stops, put back the weights of the best epoch
          (otherwise the model keeps the last, worse, epoch's weights).
        """,
    ),
    answer(
        "part_d_answer",
        """
        ### BEGIN SOLUTION
        early_stopping = keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=3, min_delta=0.001, restore_best_weights=True
        )
        ### END SOLUTION
        """,
    ),
    grade(LESSON, "callback_settings", 2),
    md(
        "part_e",
        """
        ### Part E — Train with a validation split (5 points)

        Train `model` and keep the result in `history`:
        `model.fit(X_train_scaled, y_train, validation_split=0.2, epochs=epochs,
        batch_size=batch_size, callbacks=[early_stopping], verbose=2)`.

        `validation_split=0.2` holds out the **last** 20 % of the training images (12,000)
        and reports `val_loss` and `val_accuracy` on them after every epoch; the model never
        trains on them. `epochs=100` is only a ceiling: early stopping should end training
        after about 10–20 epochs.

        Graded: that training used the validation split, stopped early and restored the best
        weights (2 points); the model's accuracy on the 10,000 test images, measured by the
        grader, must be **at least 0.975** (3 points).
        """,
    ),
    answer(
        "part_e_answer",
        """
        epochs = 100
        batch_size = 128
        ### BEGIN SOLUTION
        history = model.fit(
            X_train_scaled, y_train,
            validation_split=0.2, epochs=epochs, batch_size=batch_size,
            callbacks=[early_stopping], verbose=2,
        )
        ### END SOLUTION
        n_run, best = len(history.history["loss"]), early_stopping.best_epoch + 1
        print(f"stopped after {n_run} epochs; best epoch {best}")
        test_loss, test_accuracy = model.evaluate(X_test_scaled, y_test, verbose=0)
        print(f"test accuracy: {test_accuracy:.4f}")
        """,
    ),
    grade(LESSON, "training", 2),
    grade(LESSON, "test_accuracy", 3),
    md(
        "curves_md",
        """
        ## Learning curves

        Training and validation curves side by side: where the validation loss flattens out
        or turns up while the training loss still falls, the model starts to overfit; early
        stopping ended training a few epochs (the patience) after the best one.
        """,
    ),
    code(
        "curves",
        """
        # Figures only: loss and accuracy, training vs validation
        plots.learning_curves(history, metrics=("loss", "accuracy"));
        """,
    ),
    md(
        "predictions_md",
        """
        ## Sample predictions

        Each title reads *predicted / true*; red titles are mistakes. The first row shows the
        first test digits, the others show misclassified ones: many are digits a person
        would hesitate over too.
        """,
    ),
    code(
        "predictions",
        """
        # Figures only: predictions on test digits, misclassified ones in red
        probabilities = model.predict(X_test_scaled, verbose=0)
        predicted = probabilities.argmax(axis=1)
        wrong = np.flatnonzero(predicted != y_test)
        shown = np.concatenate([np.arange(8), wrong[:16]])
        plots.image_grid(
            x_test[shown],
            titles=[f"{p} / {t}" for p, t in zip(predicted[shown], y_test[shown])],
            highlight=predicted[shown] != y_test[shown],
            title=f"{len(wrong)} of {len(y_test)} test digits misclassified",
        );
        """,
    ),
    md(
        "part_f",
        """
        ### Part F — Save and load the model (2 points)

        A trained model is worth keeping. `model.save(path)` writes the architecture, the
        weights and the compile settings into one `.keras` file;
        `keras.models.load_model(path)` rebuilds the model from it.

        Save `model` to `"mnist_mlp.keras"`, load that file back into `reloaded_model`, and set
        `same_predictions` to `True` if the two models give the same test predictions
        (`np.allclose` on their `predict` outputs for `X_test_scaled`). The grader compares
        `reloaded_model` with `model` on its own test images.
        """,
    ),
    answer(
        "part_f_answer",
        """
        model_path = "mnist_mlp.keras"
        ### BEGIN SOLUTION
        model.save(model_path)
        reloaded_model = keras.models.load_model(model_path)
        same_predictions = np.allclose(
            model.predict(X_test_scaled, verbose=0),
            reloaded_model.predict(X_test_scaled, verbose=0),
        )
        ### END SOLUTION
        print("same predictions after reloading:", same_predictions)
        """,
    ),
    grade(LESSON, "saved_model", 2),
    md(
        "wrap_up",
        """
        ## What you learned

        * Scale pixels to [0, 1] (`/ 255`, as `float32`) before training.
        * `Flatten` → `Dense(…, relu)` → `Dense(10, softmax)` is a complete image classifier;
          integer labels go with `sparse_categorical_crossentropy`.
        * `EarlyStopping(monitor="val_loss", restore_best_weights=True)` with a
          `validation_split` picks the number of epochs for you and keeps the best weights.
        * `model.save("….keras")` and `keras.models.load_model(…)` store and restore a model
          exactly.
        """,
    ),
]

if __name__ == "__main__":
    print(write(LESSON, CELLS))
