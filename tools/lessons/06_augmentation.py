"""Builds source/06_augmentation/06_augmentation.ipynb: augmentation on a small MNIST subset."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from notebook_cells import answer, code, grade, intro, md, write

LESSON = "06_augmentation"

CELLS = [
    intro(
        """
        # Lesson 06 — Data augmentation: more training images for free

        With 60,000 training digits the CNN of lesson 05 passes 99 %. Real projects rarely have
        that many labelled images. Here you keep only **1,000** training digits and see how far
        *data augmentation* gets you: every time an image is shown to the network it is
        slightly rotated, zoomed and shifted, so the network never sees exactly the same
        picture twice and learns what stays the same — the digit. You will learn:

        * the Keras augmentation layers `RandomRotation`, `RandomZoom` and `RandomTranslation`,
          placed **inside the model**;
        * which transformations keep the label true — and why **flipping** a digit does not;
        * that these layers only act during training: at prediction time they pass the image
          through unchanged;
        * to measure the gain honestly: the same network, trained with and without
          augmentation, compared on the same test set.
        """,
        checks="measures both\nyour models itself on the 10,000 test digits it loads on its own.",
    ),
    md("setup_md", "## Setup"),
    code(
        "setup",
        """
        import numpy as np
        import keras
        from keras import layers

        from course_lib import data, plots, training_checks

        print("Keras", keras.__version__)
        """,
    ),
    md(
        "data_md",
        """
        ## A small training set

        The first 1,000 training digits (about 100 of each) and the full 10,000-digit test set.
        """,
    ),
    code(
        "load",
        """
        (x_train, y_train), (x_test, y_test) = data.load_mnist()
        n_small = 1000
        x_small, y_small = x_train[:n_small], y_train[:n_small]
        print("small training set:", x_small.shape, " digits per class:", np.bincount(y_small))
        """,
    ),
    md(
        "prepare_md",
        """
        Define `X_small` and `X_test_cnn`: `x_small` and `x_test` scaled to [0, 1] as `float32`
        and reshaped to `(n_images, 28, 28, 1)`, as in lesson 05 (not graded on its own).
        """,
    ),
    answer(
        "prepare_answer",
        """
        ### BEGIN SOLUTION
        X_small = (x_small / 255.0).astype("float32").reshape(-1, 28, 28, 1)
        X_test_cnn = (x_test / 255.0).astype("float32").reshape(-1, 28, 28, 1)
        ### END SOLUTION
        print(X_small.shape, X_test_cnn.shape)
        """,
    ),
    md(
        "part_a",
        """
        ### Part A — The augmentation layers (2 points)

        Define `augmentation` as a `keras.Sequential` model of three layers:

        * `layers.RandomRotation(0.05)` — rotate by up to ±5 % of a full turn (±18°);
        * `layers.RandomZoom(0.1)` — zoom in or out by up to 10 %;
        * `layers.RandomTranslation(0.1, 0.1)` — shift by up to 10 % of the height and width.

        Keep the ranges modest: a digit rotated by half a turn is another digit (6 ↔ 9), and
        one zoomed or shifted too far leaves the frame.

        **Do not flip.** `RandomFlip` is a standard augmentation for photos of cats or cars,
        which look the same in a mirror. Digits do not: a mirrored 2 looks like a 5, a 7 is no
        digit at all. A flipped image with its old label teaches the network something false.

        *Older code* does the same outside the model with
        `tensorflow.keras.preprocessing.image.ImageDataGenerator(rotation_range=…, zoom_range=…,
        …).flow(x, y, batch_size=…)`, a generator of augmented batches passed to `fit`. It
        still exists in TensorFlow, but Keras 3 itself only has the layers used here: they run
        inside the model (on the GPU when there is one) and travel with it when it is saved.
        """,
    ),
    answer(
        "part_a_answer",
        """
        keras.utils.set_random_seed(6)
        ### BEGIN SOLUTION
        augmentation = keras.Sequential(
            [
                layers.RandomRotation(0.05),
                layers.RandomZoom(0.1),
                layers.RandomTranslation(0.1, 0.1),
            ],
            name="augmentation",
        )
        ### END SOLUTION
        """,
    ),
    md(
        "preview_md",
        """
        ## Preview

        The augmentation layers only act when called with `training=True` (as `fit` does).
        Each row below is one training digit and seven random versions of it: all still
        clearly the same digit.
        """,
    ),
    code(
        "preview",
        """
        # Figures only: the first column is the original
        rows = []
        for image in X_small[:4]:
            batch = np.repeat(image[None], 7, axis=0)
            augmented = np.asarray(augmentation(batch, training=True))
            rows.append(np.concatenate([image[None], augmented]))
        plots.image_grid(np.concatenate(rows), ncols=8, title="Original, then 7 augmented");
        """,
    ),
    md(
        "part_b",
        """
        ### Part B — One CNN, with or without augmentation (2 points)

        Write `build_cnn(augment=None)` returning a **compiled** `keras.Sequential` model:

        1. `keras.Input(shape=(28, 28, 1))`;
        2. `augment` if it is not `None` (a Sequential model can be used as a layer);
        3. `Conv2D(16, (3, 3), padding="same", activation="relu")`, `BatchNormalization()`,
           `MaxPool2D((2, 2))`;
        4. the same block with 32 filters;
        5. `Flatten()`, `Dropout(0.3)`, `Dense(10, activation="softmax")`;

        compiled with `loss="sparse_categorical_crossentropy"`, `metrics=["accuracy"]` and
        `optimizer=keras.optimizers.Adam(learning_rate)`, where
        `learning_rate = keras.optimizers.schedules.CosineDecay(0.002, decay_steps=steps)`
        (create it inside `build_cnn`, so each model gets its own). The step size then
        shrinks smoothly to zero over the `steps` training steps: with so few images the
        last epochs' accuracy would otherwise jump around from one epoch to the next, and
        the comparison would measure that noise instead of the augmentation.

        Nothing else is needed for inference: Keras's augmentation layers are active only
        during training, so predictions of the augmented model are deterministic. Never
        call them with `training=True` inside the model: the test images would be distorted too.
        """,
    ),
    answer(
        "part_b_answer",
        """
        epochs = 60
        batch_size = 64
        steps = epochs * int(np.ceil(len(X_small) / batch_size))
        ### BEGIN SOLUTION
        def build_cnn(augment=None):
            front = [augment] if augment is not None else []
            model = keras.Sequential([
                keras.Input(shape=(28, 28, 1)),
                *front,
                layers.Conv2D(16, (3, 3), padding="same", activation="relu"),
                layers.BatchNormalization(),
                layers.MaxPool2D((2, 2)),
                layers.Conv2D(32, (3, 3), padding="same", activation="relu"),
                layers.BatchNormalization(),
                layers.MaxPool2D((2, 2)),
                layers.Flatten(),
                layers.Dropout(0.3),
                layers.Dense(10, activation="softmax"),
            ])
            learning_rate = keras.optimizers.schedules.CosineDecay(0.002, decay_steps=steps)
            model.compile(
                loss="sparse_categorical_crossentropy",
                optimizer=keras.optimizers.Adam(learning_rate),
                metrics=["accuracy"],
            )
            return model
        ### END SOLUTION
        """,
    ),
    md(
        "part_c",
        """
        ### Part C — Train both, compare (5 points)

        Train two models on `X_small`, `y_small` with the same seed, epochs and batch size,
        `verbose=0`:

        * `model_plain = build_cnn()`, history in `history_plain`;
        * `model_augmented = build_cnn(augmentation)`, history in `history_augmented`.

        Call `keras.utils.set_random_seed(6)` right before building each one, so both start
        from the same weights and see the batches in the same order: the only difference is
        the augmentation. Then evaluate both on `X_test_cnn`.

        Graded: `model_augmented` contains the augmentation layers with sensible ranges and no
        flip (2 points, Part A); both models share the same CNN (1 point); the augmented model
        predicts deterministically (1 point); on the grader's 10,000 test digits the augmented
        model beats the plain one and reaches the accuracy stated by the grader (3 points).
        """,
    ),
    answer(
        "part_c_answer",
        """
        ### BEGIN SOLUTION
        keras.utils.set_random_seed(6)
        model_plain = build_cnn()
        history_plain = model_plain.fit(
            X_small, y_small, epochs=epochs, batch_size=batch_size, verbose=0
        )
        keras.utils.set_random_seed(6)
        model_augmented = build_cnn(augmentation)
        history_augmented = model_augmented.fit(
            X_small, y_small, epochs=epochs, batch_size=batch_size, verbose=0
        )
        ### END SOLUTION
        plain_accuracy = model_plain.evaluate(X_test_cnn, y_test, verbose=0)[1]
        augmented_accuracy = model_augmented.evaluate(X_test_cnn, y_test, verbose=0)[1]
        print(f"test accuracy without augmentation: {plain_accuracy:.4f}")
        print(f"test accuracy with augmentation:    {augmented_accuracy:.4f}")
        """,
    ),
    code(
        "part_c_check",
        """
        # Self-check (not graded)
        training_checks.check_augmentation(model_augmented)
        training_checks.check_inference_deterministic(model_augmented, X_test_cnn[:200])
        print("Part C looks right")
        """,
    ),
    grade(LESSON, "augmentation_layers", 2),
    grade(LESSON, "same_cnn", 1),
    grade(LESSON, "inference", 1),
    grade(LESSON, "comparison", 3),
    md(
        "curves_md",
        """
        ## Training curves

        Without augmentation the training accuracy reaches 100 % within a few epochs: the
        network has memorised its 1,000 digits and learns little more. With augmentation the
        training images keep changing, the training accuracy stays lower, and what the network
        learns carries over better to digits it has never seen.
        """,
    ),
    code(
        "curves",
        """
        # Figures only
        histories = {"plain": history_plain, "augmented": history_augmented}
        plots.compare_curves(histories, metric="accuracy", title="Training accuracy");
        """,
    ),
    md(
        "wrap_up",
        """
        ## What you learned

        * Augmentation layers (`RandomRotation`, `RandomZoom`, `RandomTranslation`) placed at
          the start of a model create new training variants on the fly; they are inactive at
          inference.
        * Use only transformations that keep the label true: no flips for digits or text.
        * Compare fairly: same network, same seed, same budget, one change.
        * The older `ImageDataGenerator(...).flow` API does the same outside the model.
        """,
    ),
]

if __name__ == "__main__":
    print(write(LESSON, CELLS))
