"""Builds source/05_cnn/05_cnn.ipynb: a small convolutional network on MNIST."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from notebook_cells import answer, code, grade, intro, md, write

LESSON = "05_cnn"

CELLS = [
    intro(
        """
        # Lesson 05 — A convolutional network for digits

        The network of lesson 04 flattened every image into 784 unrelated numbers: it had to
        learn separately that a stroke at the top left and the same stroke one pixel lower mean
        the same thing. A **convolutional** layer slides small filters over the image instead,
        so the same 3 × 3 detector is used everywhere. You will learn:

        * the building block `Conv2D` → `BatchNormalization` → `MaxPool2D`, and what each does;
        * how to work out, before Keras tells you, the **output shape** and the **number of
          parameters** of every layer;
        * that such a network passes **99 %** test accuracy on MNIST after a few epochs.
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
        ## Prepare the data

        A `Conv2D` layer expects images with a *channel* axis: `(height, width, channels)`,
        1 channel for grey-scale, 3 for colour. MNIST images come as `(28, 28)`, so they get a
        trailing axis of size 1; the pixels are scaled to [0, 1] as in lesson 04.
        """,
    ),
    code(
        "load",
        """
        (x_train, y_train), (x_test, y_test) = data.load_mnist()
        print("train:", x_train.shape, " test:", x_test.shape)
        """,
    ),
    md(
        "prepare_md",
        """
        Define `X_train_cnn` and `X_test_cnn`: `x_train` and `x_test` divided by 255, as
        `float32`, reshaped to `(n_images, 28, 28, 1)` (`.reshape(-1, 28, 28, 1)`: `-1` lets
        NumPy work out the number of images). Not graded on its own: everything after
        depends on it.
        """,
    ),
    answer(
        "prepare_answer",
        """
        ### BEGIN SOLUTION
        X_train_cnn = (x_train / 255.0).astype("float32").reshape(-1, 28, 28, 1)
        X_test_cnn = (x_test / 255.0).astype("float32").reshape(-1, 28, 28, 1)
        ### END SOLUTION
        print("train:", X_train_cnn.shape, " test:", X_test_cnn.shape)
        """,
    ),
    md(
        "architecture_md",
        """
        ## The network

        | # | layer | what it does |
        |---|-------|--------------|
        | 1 | `Conv2D(16, (3, 3), padding="same", activation="relu")` | 16 *feature maps* |
        | 2 | `BatchNormalization()` | rescales each map to a steady mean and spread |
        | 3 | `MaxPool2D((2, 2))` | keeps the largest of every 2 × 2 patch: half height and width |
        | 4 | `Conv2D(32, (3, 3), padding="same", activation="relu")` | 32 maps from all 16 |
        | 5 | `BatchNormalization()` | |
        | 6 | `MaxPool2D((2, 2))` | |
        | 7 | `Conv2D(64, (3, 3), padding="same", activation="relu")` | 64 maps from all 32 |
        | 8 | `BatchNormalization()` | |
        | 9 | `MaxPool2D((2, 2))` | |
        | 10 | `Flatten()` | the feature maps become one vector |
        | 11 | `Dropout(0.2)` | in training, zeroes a random 20 % of it: less memorising |
        | 12 | `Dense(64, activation="relu")` | combines the features |
        | 13 | `Dense(10, activation="softmax")` | one probability per digit |

        Three blocks of `Conv2D` → `BatchNormalization` → `MaxPool2D`: each block sees a
        wider part of the digit (strokes, then parts, then shapes) at half the resolution.

        `padding="same"` pads the border with zeros so the output keeps the input's height and
        width; with `padding="valid"` (the default) a 3 × 3 filter would lose one pixel on
        each side.
        """,
    ),
    md(
        "part_a",
        """
        ### Part A — Predict the output shapes (2 points)

        Before building anything, work out the output shape of the layers below for one
        image, as a tuple **without** the batch dimension (Keras shows it as `None`):

        * `conv1_shape`: after layer 1; `pool1_shape`: after layer 3;
        * `conv2_shape`: after layer 4; `pool2_shape`: after layer 6;
        * `conv3_shape`: after layer 7; `pool3_shape`: after layer 9;
        * `flatten_size`: the length of the vector after layer 10 (an `int`).

        Hints: "same" padding keeps height and width, the number of channels becomes the
        number of filters, a 2 × 2 pooling halves height and width — rounding down when
        they are odd (a last row or column that does not fill a 2 × 2 patch is dropped).
        """,
    ),
    answer(
        "part_a_answer",
        """
        ### BEGIN SOLUTION
        conv1_shape = (28, 28, 16)
        pool1_shape = (14, 14, 16)
        conv2_shape = (14, 14, 32)
        pool2_shape = (7, 7, 32)
        conv3_shape = (7, 7, 64)
        pool3_shape = (3, 3, 64)
        flatten_size = 3 * 3 * 64
        ### END SOLUTION
        print(conv1_shape, pool1_shape, conv2_shape, pool2_shape)
        print(conv3_shape, pool3_shape, flatten_size)
        """,
    ),
    grade(LESSON, "output_shapes", 2),
    md(
        "part_b",
        """
        ### Part B — Predict the parameter counts (2 points)

        * A `Conv2D` layer has one weight per filter pixel *and input channel*, plus one bias
          per filter: `(kh · kw · c_in + 1) · filters`.
        * `BatchNormalization` keeps 4 numbers per channel: a scale and a shift (learned) and a
          running mean and variance (tracked, not trained).
        * Pooling, `Flatten` and `Dropout` have no parameters.
        * A `Dense` layer: `(inputs + 1) · units`.

        Define the integers `conv1_params`, `bn1_params`, `conv2_params`, `conv3_params`,
        `dense_params` (layer 12) and `output_params` (layer 13). Write them as arithmetic, e.g.
        `(3 * 3 * 1 + 1) * 16`, not copied from `summary()`.
        """,
    ),
    answer(
        "part_b_answer",
        """
        ### BEGIN SOLUTION
        conv1_params = (3 * 3 * 1 + 1) * 16
        bn1_params = 4 * 16
        conv2_params = (3 * 3 * 16 + 1) * 32
        conv3_params = (3 * 3 * 32 + 1) * 64
        dense_params = (flatten_size + 1) * 64
        output_params = (64 + 1) * 10
        ### END SOLUTION
        print(conv1_params, bn1_params, conv2_params, conv3_params, dense_params, output_params)
        """,
    ),
    grade(LESSON, "parameter_counts", 2),
    md(
        "part_c",
        """
        ### Part C — Build the network (2 points)

        Define `model` as a `keras.Sequential` model: `keras.Input(shape=(28, 28, 1))`
        followed by the thirteen layers of the table, in that order. Then compare `model.summary()`
        with your answers to Parts A and B.
        """,
    ),
    answer(
        "part_c_answer",
        """
        keras.backend.clear_session()
        keras.utils.set_random_seed(5)
        ### BEGIN SOLUTION
        model = keras.Sequential([
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(16, (3, 3), padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPool2D((2, 2)),
            layers.Conv2D(32, (3, 3), padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPool2D((2, 2)),
            layers.Conv2D(64, (3, 3), padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPool2D((2, 2)),
            layers.Flatten(),
            layers.Dropout(0.2),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ])
        ### END SOLUTION
        model.summary()
        """,
    ),
    code(
        "part_c_check",
        """
        # Self-check (not graded): your answers against Keras's own numbers
        for layer in model.layers:
            shape = tuple(layer.output.shape[1:])
            print(f"{type(layer).__name__:<20} {str(shape):<16} {layer.count_params():>8,}")
        convs = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
        pools = [layer for layer in model.layers if isinstance(layer, layers.MaxPooling2D)]
        assert tuple(convs[0].output.shape[1:]) == tuple(conv1_shape), "conv1_shape: Keras differs"
        assert convs[1].count_params() == conv2_params, "conv2_params: Keras differs"
        assert tuple(pools[-1].output.shape[1:]) == tuple(pool3_shape), "pool3_shape: Keras differs"
        print("Part C looks right")
        """,
    ),
    grade(LESSON, "architecture", 2),
    md(
        "part_d",
        """
        ### Part D — Compile (1 point)

        The learning rate starts at 0.003 and shrinks to half its value every epoch
        (`learning_rate`, given below): large steps first, then small steps that let the
        weights settle. Compile `model` with `loss="sparse_categorical_crossentropy"`,
        `optimizer=keras.optimizers.Adam(learning_rate)` and `metrics=["accuracy"]`.
        """,
    ),
    answer(
        "part_d_answer",
        """
        batch_size = 128
        learning_rate = keras.optimizers.schedules.ExponentialDecay(
            0.003, decay_steps=len(X_train_cnn) // batch_size, decay_rate=0.5
        )
        ### BEGIN SOLUTION
        model.compile(
            loss="sparse_categorical_crossentropy",
            optimizer=keras.optimizers.Adam(learning_rate),
            metrics=["accuracy"],
        )
        ### END SOLUTION
        """,
    ),
    grade(LESSON, "compile_settings", 1),
    md(
        "part_e",
        """
        ### Part E — Train (3 points)

        Train `model` on all 60,000 training images for `epochs` epochs with `batch_size`, keep
        the result in `history`, and use `verbose=2` (one line per epoch). On two CPU cores
        this takes about a minute (each epoch about 15 s).

        The grader measures the accuracy on the 10,000 test images itself: it must be **at
        least 0.99**.
        """,
    ),
    answer(
        "part_e_answer",
        """
        epochs = 4
        ### BEGIN SOLUTION
        history = model.fit(X_train_cnn, y_train, epochs=epochs, batch_size=batch_size, verbose=2)
        ### END SOLUTION
        test_loss, test_accuracy = model.evaluate(X_test_cnn, y_test, verbose=0)
        print(f"test accuracy: {test_accuracy:.4f}")
        """,
    ),
    grade(LESSON, "test_accuracy", 3),
    md(
        "results_md",
        """
        ## Where does it still go wrong?

        The confusion matrix counts, for every true digit (rows), what the network answered
        (columns): the few errors left sit off the diagonal.
        """,
    ),
    code(
        "results",
        """
        # Figures only
        plots.learning_curves(history, metrics=("loss", "accuracy"));
        predicted = model.predict(X_test_cnn, verbose=0).argmax(axis=1)
        plots.confusion_matrix(y_test, predicted, title="Test digits: true vs predicted");
        wrong = np.flatnonzero(predicted != y_test)[:16]
        titles = [f"{p} / {t}" for p, t in zip(predicted[wrong], y_test[wrong])]
        plots.image_grid(x_test[wrong], titles=titles, highlight=np.ones(len(wrong), bool),
                         title="Misclassified (predicted / true)");
        """,
    ),
    md(
        "wrap_up",
        """
        ## What you learned

        * `Conv2D` with `padding="same"` keeps height and width and has
          `(kh · kw · c_in + 1) · filters` parameters — few, because each filter is shared
          across the whole image.
        * `MaxPool2D((2, 2))` halves height and width and has no parameters;
          `BatchNormalization` has 4 per channel.
        * Three conv blocks, `Flatten`, `Dropout` and two `Dense` layers reach 99 % on MNIST in
          four epochs, with about a third of the parameters of the lesson 04 network.
        """,
    ),
]

if __name__ == "__main__":
    print(write(LESSON, CELLS))
