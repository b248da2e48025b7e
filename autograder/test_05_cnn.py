"""Hidden graders of lesson 05_cnn: Conv2D → BatchNormalization → MaxPool2D blocks on MNIST.

Each test is one grade cell (test id = grade_id). The graders reload the student's model
from the hand-in and measure it on MNIST images they load themselves.
"""

from course_lib import checks, data, training_checks
from course_lib.grader import calibration
from course_lib.inspection import LayerRecord

LESSON = "05_cnn"

HANDIN = {
    "X_train_cnn": "array_stats",
    "X_test_cnn": "array_stats",
    "model": "model",
    "history": "history",
    "conv1_shape": "value",
    "pool1_shape": "value",
    "conv2_shape": "value",
    "pool2_shape": "value",
    "conv3_shape": "value",
    "pool3_shape": "value",
    "flatten_size": "value",
    "conv1_params": "value",
    "bn1_params": "value",
    "conv2_params": "value",
    "conv3_params": "value",
    "dense_params": "value",
    "output_params": "value",
}

# Test accuracy of the reference solution (16/32/64 filters, Dense(64), 4 epochs, batch 128,
# Adam 0.003 halving every epoch) on the 10k MNIST test set over seeds: see
# autograder/calibration/05_cnn.json. Margin: 10 more misread test digits than the worst seed,
# on a grid of 0.005 (the course's 99 %).
CALIBRATED = {
    "test_accuracy": calibration.Bound(
        "at_least", margin=0.001, step=0.005, why="10 more misread test digits"
    ),
}
LIMITS = calibration.thresholds(__file__, LESSON)


def prepare() -> None:
    """Load the test digits while the notebook still runs (the verdict plugin calls this)."""
    data.load_mnist()


EPOCHS, BATCH_SIZE, N_TRAIN = 4, 128, 60_000
DROPOUT = 0.2
LEARNING_RATE = {
    "class_name": "CosineDecay",
    "initial_learning_rate": 0.003,
    "decay_steps": EPOCHS * -(-N_TRAIN // BATCH_SIZE),
}

F1, F2, F3, DENSE = 16, 32, 64, 64


def _conv(filters):
    return LayerRecord(
        "Conv2D", filters=filters, kernel_size=(3, 3), padding="same", activation="relu"
    )


EXPECTED_LAYERS = [
    _conv(F1),
    LayerRecord("BatchNormalization"),
    LayerRecord("MaxPooling2D", pool_size=(2, 2)),
    _conv(F2),
    LayerRecord("BatchNormalization"),
    LayerRecord("MaxPooling2D", pool_size=(2, 2)),
    _conv(F3),
    LayerRecord("BatchNormalization"),
    LayerRecord("MaxPooling2D", pool_size=(2, 2)),
    LayerRecord("Flatten"),
    LayerRecord("Dropout", rate=DROPOUT),
    LayerRecord("Dense", units=DENSE, activation="relu"),
    LayerRecord("Dense", units=10, activation="softmax"),
]

LAYER_HINTS = {
    "padding": 'padding="same" keeps the 28 × 28 size; the task (and your Part A answers) '
    "rely on it",
    "missing": "each block is Conv2D → BatchNormalization → MaxPool2D((2, 2)), then Flatten, "
    "Dropout, Dense(64, relu), Dense(10, softmax)",
    "activation": "ReLU after each convolution and the hidden Dense layer; softmax at the output",
    "filters": "the blocks have 16, 32 and 64 filters",
    "kernel_size": "the task uses 3 × 3 filters",
    "pool_size": "pool over 2 × 2 patches: half the height and width",
    "rate": "the table asks for Dropout(0.2): a fifth of the flattened features zeroed in training",
}

SHAPES = {
    "conv1_shape": (28, 28, F1),
    "pool1_shape": (14, 14, F1),
    "conv2_shape": (14, 14, F2),
    "pool2_shape": (7, 7, F2),
    "conv3_shape": (7, 7, F3),
    "pool3_shape": (3, 3, F3),
}

PARAMS = {
    "conv1_params": ((3 * 3 * 1 + 1) * F1, "(kh · kw · c_in + 1) · filters, with 1 input channel"),
    "bn1_params": (4 * F1, "4 numbers per channel: scale, shift, running mean, running variance"),
    "conv2_params": (
        (3 * 3 * F1 + 1) * F2,
        f"each filter sees all {F1} channels below it: (3 · 3 · {F1} + 1) · {F2}",
    ),
    "conv3_params": ((3 * 3 * F2 + 1) * F3, f"each filter sees all {F2} channels below it"),
    "dense_params": (
        (3 * 3 * F3 + 1) * DENSE,
        "(inputs + 1) · units, the inputs being the flattened vector",
    ),
    "output_params": ((DENSE + 1) * 10, "(inputs + 1) · units"),
}

SHAPE_HINTS = {
    "conv1_shape": '"same" padding keeps 28 × 28; the channels become the 16 filters',
    "pool1_shape": "2 × 2 pooling halves height and width and keeps the channels",
    "conv2_shape": '"same" padding keeps 14 × 14; the channels become the 32 filters',
    "pool2_shape": "2 × 2 pooling halves height and width and keeps the channels",
    "conv3_shape": '"same" padding keeps 7 × 7; the channels become the 64 filters',
    "pool3_shape": "2 × 2 pooling halves 7 × 7, rounding down: the odd last row and column "
    "are dropped",
}


def measure_test_accuracy(handin) -> float:
    """The model's accuracy on the 10,000 MNIST test digits."""
    _, (x_test, y_test) = data.load_mnist()
    return training_checks.accuracy(handin.model("model"), x_test, y_test)


def _check_shape(name: str, answer, expected: tuple) -> None:
    if answer is None:
        raise checks.none_answer(name)
    if isinstance(answer, list) and answer and answer[0] is None:
        raise checks.CheckFailure(
            f"`{name}`: includes the batch dimension",
            expected=str(expected),
            found=str(tuple(answer)),
            hint="leave out the batch dimension (None): give the shape of one image's output",
        )
    if not isinstance(answer, list) or tuple(answer) != expected:
        raise checks.CheckFailure(
            f"`{name}`: wrong shape",
            expected="(height, width, channels) of one image's output",
            found=str(tuple(answer) if isinstance(answer, list) else answer),
            hint=SHAPE_HINTS[name],
        )


def test_output_shapes(handin):
    with checks.gather() as each:
        for name, expected in SHAPES.items():
            with each:
                _check_shape(name, handin.value(name), expected)
        with each:
            checks.check_answer_int(
                "flatten_size",
                handin.value("flatten_size"),
                3 * 3 * F3,
                hint="Flatten lays the last pooling output out as one vector: "
                "height · width · channels",
            )


def test_parameter_counts(handin):
    source = handin.answer_source("part_b_answer")
    with checks.gather() as each:
        for name, (expected, hint) in PARAMS.items():
            with each:
                checks.check_answer_int(name, handin.value(name), expected, hint=hint)
            with each:
                checks.check_counted_by_hand(name, source, part="Part B", hint=hint)
                checks.check_written_as_arithmetic(name, source, part="Part B", hint=hint)


def test_architecture(handin):
    model = handin.model("model")
    shape = training_checks.inspection.input_shape(model)
    if shape is None:
        raise checks.CheckFailure(
            "input shape: missing",
            expected="keras.Input(shape=(28, 28, 1))",
            found="no input shape (the model was never built)",
        )
    with checks.gather() as each:
        with each:
            training_checks.check_records(
                training_checks.core_records(model), EXPECTED_LAYERS, hints=LAYER_HINTS
            )
        with each:
            checks.check_input_declared(
                handin.answer_source("part_c_answer"),
                part="Part C",
                expected="keras.Input(shape=(28, 28, 1))",
            )


def test_compile_settings(handin):
    checks.check_compile(
        handin.model("model"),
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        metrics=["accuracy"],
        learning_rate=LEARNING_RATE,
        hints={
            "loss": "the labels are integers 0-9: sparse_categorical_crossentropy takes them "
            "as they are (categorical_crossentropy expects one-hot rows)",
            "optimizer": "the task asks for keras.optimizers.Adam(learning_rate)",
            "learning_rate": "pass the schedule the task gives: "
            "keras.optimizers.Adam(learning_rate), with learning_rate the CosineDecay "
            "defined above",
            "metrics": "report the accuracy: the fraction of digits read correctly",
        },
    )


def test_test_accuracy(handin):
    (x_train, _), (x_test, _) = data.load_mnist()
    with checks.gather() as each:
        for name, raw in (("X_train_cnn", x_train), ("X_test_cnn", x_test)):
            with each:
                training_checks.check_pixel_statistics(
                    name,
                    handin.value(name),
                    raw,
                    shape=(len(raw), 28, 28, 1),
                    rescaled_in_model=_rescales(handin, ("model",)),
                )
        with each:
            checks.check_at_least(
                "test accuracy",
                measure_test_accuracy(handin),
                LIMITS["test_accuracy"],
                hint="scale the pixels to [0, 1], keep the conv → batch-norm → pooling blocks "
                "and train for the stated epochs and batch size",
            )
        with each:
            training_checks.check_fit(
                handin.history("history"),
                n_rows=N_TRAIN,
                batch_size=BATCH_SIZE,
                epochs=EPOCHS,
                call="fit on all 60,000 training images",
            )


def _rescales(handin, names) -> bool:
    """Every named model starts by dividing the pixels by 255 itself (a Rescaling layer)."""
    return all(
        handin.has(name) and training_checks.has_layer(handin.model(name), "Rescaling")
        for name in names
    )
