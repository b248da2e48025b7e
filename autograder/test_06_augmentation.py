"""Hidden graders of lesson 06_augmentation: the same CNN with and without augmentation.

Each test is one grade cell (test id = grade_id). The graders reload both models from the
hand-in and measure them on the MNIST test images they load themselves.
"""

import pytest

from course_lib import checks, data, training_checks
from course_lib.grader import calibration
from course_lib.inspection import LayerRecord

LESSON = "06_augmentation"

HANDIN = {
    "X_small": "array_stats",
    "X_test_cnn": "array_stats",
    "model_plain": "model",
    "history_plain": "history",
    "model_augmented": "model",
    "history_augmented": "history",
}

# Test accuracy of the reference solution (1,000 training digits, 60 epochs, batch 64, Adam
# 0.002 with cosine decay) over seeds: see autograder/calibration/06_augmentation.json.
# "Beats the plain model" allows a noise margin: one correct seed gained only 0.0007, while a
# harmful augmentation (flips, half-turn rotations) loses several points.
CALIBRATED = {
    "augmented_accuracy": calibration.Bound(
        "at_least", margin=0.0075, step=0.005, why="75 more misread test digits"
    ),
    "gain": calibration.Bound(
        "at_least",
        margin=0.0035,
        step=0.001,
        why="35 test digits of noise between two trainings that differ only by augmentation",
    ),
}
LIMITS = calibration.thresholds(__file__, LESSON)


def prepare() -> None:
    """Load the test digits while the notebook still runs (the verdict plugin calls this)."""
    data.load_mnist()


EPOCHS, BATCH_SIZE, N_SMALL = 60, 64, 1000
STEPS = EPOCHS * -(-N_SMALL // BATCH_SIZE)


def _conv(filters):
    return LayerRecord(
        "Conv2D", filters=filters, kernel_size=(3, 3), padding="same", activation="relu"
    )


EXPECTED_LAYERS = [
    _conv(16),
    LayerRecord("BatchNormalization"),
    LayerRecord("MaxPooling2D", pool_size=(2, 2)),
    _conv(32),
    LayerRecord("BatchNormalization"),
    LayerRecord("MaxPooling2D", pool_size=(2, 2)),
    LayerRecord("Flatten"),
    LayerRecord("Dropout", rate=0.3),
    LayerRecord("Dense", units=10, activation="softmax"),
]
LAYER_HINTS = {
    "missing": "build_cnn: two blocks Conv2D → BatchNormalization → MaxPool2D((2, 2)) with "
    "16 and 32 filters, then Flatten, Dropout(0.3), Dense(10, softmax)",
    "extra": "build_cnn has exactly the layers of Part B",
    "padding": 'padding="same" keeps the image size, as in lesson 05',
    "rate": "Part B asks for Dropout(0.3)",
}
LEARNING_RATE = {"class_name": "CosineDecay", "initial_learning_rate": 0.002, "decay_steps": STEPS}

SAME_CNN_HINT = "build both models with the same build_cnn: only the augmentation may differ"


@pytest.fixture(scope="module")
def mnist():
    return data.load_mnist()


def measure_augmented_accuracy(handin) -> float:
    _, (x_test, y_test) = data.load_mnist()
    return training_checks.accuracy(handin.model("model_augmented"), x_test, y_test)


def measure_gain(handin) -> float:
    """How much more accurate the augmented model is than the plain one."""
    _, (x_test, y_test) = data.load_mnist()
    plain = training_checks.accuracy(handin.model("model_plain"), x_test, y_test)
    return measure_augmented_accuracy(handin) - plain


def test_augmentation_layers(handin):
    training_checks.check_augmentation(
        handin.model("model_augmented"),
        required=("RandomRotation", "RandomZoom", "RandomTranslation"),
        max_rotation=0.1,
        max_zoom=0.3,
        max_translation=0.3,
    )


def test_same_cnn(handin):
    plain = handin.model("model_plain")
    augmented = handin.model("model_augmented")
    with checks.gather() as each:
        extra = [type(layer).__name__ for layer in training_checks.augmentation_layers(plain)]
        if extra:
            with each:
                raise checks.CheckFailure(
                    "`model_plain`: contains augmentation",
                    expected="build_cnn() without augmentation layers",
                    found=", ".join(extra),
                    hint="the comparison needs one model without augmentation",
                )
        with each, checks.about("model_plain"):
            training_checks.check_records(
                training_checks.core_records(plain), EXPECTED_LAYERS, hints=LAYER_HINTS
            )
        with each, checks.about("build_cnn"):
            checks.check_input_declared(
                handin.answer_source("part_b_answer"),
                part="Part B",
                expected="keras.Input(shape=(28, 28, 1))",
            )
        with each, checks.about("model_augmented"):
            training_checks.check_records(
                training_checks.core_records(augmented),
                training_checks.core_records(plain),
                hints={"missing": SAME_CNN_HINT, "extra": SAME_CNN_HINT},
            )
        for name, model in (("model_plain", plain), ("model_augmented", augmented)):
            with each, checks.about(name):
                checks.check_compile(
                    model,
                    loss="sparse_categorical_crossentropy",
                    optimizer="adam",
                    metrics=["accuracy"],
                    learning_rate=LEARNING_RATE,
                    hints={
                        "loss": "integer labels 0-9: sparse_categorical_crossentropy",
                        "optimizer": "build_cnn compiles with keras.optimizers.Adam(learning_rate)",
                        "learning_rate": "create keras.optimizers.schedules.CosineDecay(0.002, "
                        "decay_steps=steps) inside build_cnn and pass it to Adam",
                        "metrics": "report the accuracy",
                    },
                )


def test_inference(handin, mnist):
    _, (x_test, _) = mnist
    model = handin.model("model_augmented")
    training_checks.check_inference_deterministic(
        model, training_checks.model_inputs(model, x_test[:500])
    )


def test_comparison(handin, mnist):
    (x_train, _), (x_test, y_test) = mnist
    plain = training_checks.accuracy(handin.model("model_plain"), x_test, y_test)
    augmented = measure_augmented_accuracy(handin)
    with checks.gather() as each:
        with each:
            checks.check_at_least(
                "augmented model: test accuracy",
                augmented,
                LIMITS["augmented_accuracy"],
                hint="train for the stated epochs on the 1,000 scaled digits, with the "
                "augmentation inside the model",
            )
        if augmented - plain < LIMITS["gain"]:
            with each:
                raise checks.CheckFailure(
                    "comparison: augmentation did not help",
                    expected=_comparison_expected(LIMITS["gain"]),
                    found=f"augmented {augmented:.4f}, plain {plain:.4f}",
                    hint="train both with the same seed, epochs and batch size; keep the "
                    "augmentation ranges modest and the flips out",
                )
        for name, raw in (("X_small", x_train[:N_SMALL]), ("X_test_cnn", x_test)):
            with each:
                training_checks.check_pixel_statistics(
                    name,
                    handin.value(name),
                    raw,
                    shape=(len(raw), 28, 28, 1),
                    rescaled_in_model=_rescales(handin, ("model_plain", "model_augmented")),
                )
        for history in ("history_plain", "history_augmented"):
            with each:
                training_checks.check_fit(
                    handin.history(history),
                    n_rows=N_SMALL,
                    batch_size=BATCH_SIZE,
                    epochs=EPOCHS,
                    label=f"`{history}`",
                    call="fit(X_small, y_small, epochs=epochs, batch_size=batch_size)",
                )


def _rescales(handin, names) -> bool:
    """Every named model starts by dividing the pixels by 255 itself (a Rescaling layer)."""
    return all(
        handin.has(name) and training_checks.has_layer(handin.model(name), "Rescaling")
        for name in names
    )


def _comparison_expected(gain: float) -> str:
    """What the comparison asks, in the notebook's words (a negative gain is a noise margin)."""
    if gain < 0:
        return f"the augmented model at most {-gain:g} less accurate than the plain one"
    return f"the augmented model at least {gain:g} more accurate than the plain one"
