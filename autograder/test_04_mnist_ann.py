"""Hidden graders of lesson 04_mnist_ann: an MLP on MNIST trained with early stopping.

Each test is one grade cell (test id = grade_id). The graders reload the student's models
from the hand-in and measure them on MNIST images they load themselves: the validation
data is identified by the losses the model reproduces, and the saved file is reloaded
whatever API wrote it.
"""

import numpy as np
import pytest

from course_lib import checks, data, training_checks
from course_lib.grader import calibration

LESSON = "04_mnist_ann"

HANDIN = {
    "X_train_scaled": "array",
    "X_test_scaled": "array",
    "model": "model",
    "early_stopping": "callbacks",
    "history": "history",
    "model_path": "saved_model",
    "reloaded_model": "model",
    "same_predictions": "value",
}

# Test accuracy of the reference solution (Dense(256) + Dropout(0.3), batch 128, EarlyStopping
# patience 2, min_delta 0.001) on the 10k MNIST test set over seeds: see
# autograder/calibration/04_mnist_ann.json. The margin is 20 test digits below the worst seed,
# on a grid of 0.005 (the course's 0.975; without Dropout one seed reached only 0.9756).
CALIBRATED = {
    "test_accuracy": calibration.Bound(
        "at_least", margin=0.002, step=0.005, why="20 more misread test digits"
    ),
}
LIMITS = calibration.thresholds(__file__, LESSON)


def prepare() -> None:
    """Load the test digits while the notebook still runs (the verdict plugin calls this)."""
    data.load_mnist()


VALIDATION_SPLIT = 0.2
BATCH_SIZE = 128
PATIENCE, MIN_DELTA = 2, 0.001


@pytest.fixture(scope="module")
def mnist():
    return data.load_mnist()


def measure_test_accuracy(handin) -> float:
    """The model's accuracy on the 10,000 MNIST test digits."""
    _, (x_test, y_test) = data.load_mnist()
    return training_checks.accuracy(handin.model("model"), x_test, y_test)


def test_preprocessing(handin, mnist):
    (x_train, _), (x_test, _) = mnist
    with checks.gather() as each:
        for name, raw in (("X_train_scaled", x_train), ("X_test_scaled", x_test)):
            with each:
                training_checks.check_pixels_scaled(name, handin.array(name), raw)


DROPOUT = 0.3


def test_architecture(handin):
    model = handin.model("model")
    with checks.gather() as each:
        with each:
            training_checks.check_mlp(model)
        for record in training_checks.core_records(model):
            if record.type == "Dropout" and abs((record.rate or 0) - DROPOUT) > 1e-6:
                with each:
                    raise checks.CheckFailure(
                        "Dropout: wrong rate",
                        expected=f"Dropout({DROPOUT}) (or no Dropout: it is recommended, not "
                        "required)",
                        found=f"Dropout({record.rate})",
                        hint="the rate is the fraction of hidden features zeroed at each "
                        "training step; Part B asks for 0.2",
                    )
        with each:
            checks.check_input_declared(
                handin.answer_source("part_b_answer"),
                part="Part B",
                expected="keras.Input(shape=(28, 28))",
            )


def test_compile_settings(handin):
    checks.check_compile(
        handin.model("model"),
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        metrics=["accuracy"],
        learning_rate=0.001,
        hints={
            "loss": "the labels are integers 0-9: sparse_categorical_crossentropy takes them "
            "as they are (categorical_crossentropy expects one-hot rows)",
            "optimizer": "the task asks for Adam",
            "learning_rate": 'optimizer="adam" uses Adam\'s default step, 0.001',
            "metrics": "report the accuracy: the fraction of digits read correctly",
        },
    )


def test_callback_settings(handin):
    config = training_checks.callback_record(handin.value("early_stopping"), "early_stopping")
    training_checks.check_early_stopping(
        config, monitor="val_loss", patience=PATIENCE, min_delta=MIN_DELTA
    )


def test_training(handin, mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    fit = handin.history("history")
    model = handin.model("model")
    config = training_checks.callback_record(handin.value("early_stopping"), "early_stopping")
    # The model's own losses on the test images and on the rows validation_split holds out
    # (the last 20 % of the training images): the one fit validated on reproduces a val_loss.
    # Measured on the student's own arrays, what fit saw (their scaling is graded apart).
    start = int(len(x_train) * (1 - VALIDATION_SPLIT))
    train_images = _as_fed(handin, "X_train_scaled", model, x_train)
    test_images = _as_fed(handin, "X_test_scaled", model, x_test)
    test_loss = training_checks.model_loss(model, test_images, y_test)
    held_out_loss = training_checks.model_loss(model, train_images[start:], y_train[start:])
    with checks.gather() as each:
        with each:
            training_checks.check_not_validated_on_test(
                fit, test_loss=test_loss, held_out_loss=held_out_loss
            )
        with each:
            training_checks.check_fit(
                fit,
                n_rows=len(x_train),
                batch_size=BATCH_SIZE,
                min_epochs=20,
                validation_split=VALIDATION_SPLIT,
            )
        if fit.values("val_loss"):
            with each:
                training_checks.check_stopped_early(fit, config)
            with each:
                training_checks.check_best_weights_restored(held_out_loss, fit, config)


def _as_fed(handin, name: str, model, raw):
    """The student's array ``name`` shaped for ``model``; the grader's own scaling if unusable."""
    shape = training_checks.inspection.input_shape(model)
    if handin.has(name) and shape and None not in shape:
        array = np.asarray(handin.array(name), dtype="float32")
        if array.size == raw.size:
            return array.reshape((len(raw), *shape))
    return training_checks.model_inputs(model, raw)


def test_test_accuracy(handin):
    checks.check_at_least(
        "test accuracy",
        measure_test_accuracy(handin),
        LIMITS["test_accuracy"],
        hint="scale the pixels to [0, 1], use a ReLU hidden layer and a softmax output, and let "
        "early stopping (with a large epoch budget) decide when to stop",
    )


def _saved_file(handin):
    """The model in the file at ``model_path``, reloaded as any .keras file."""
    if not handin.has("model_path"):
        entry = handin.manifest.get("model_path") or {}
        if entry.get("status") != "error":
            raise handin.missing("model_path")
        raise checks.CheckFailure(
            "saved model: no .keras file at `model_path`",
            expected="the trained model saved to model_path (model.save(model_path) or "
            "keras.saving.save_model(model, model_path))",
            found=str(entry.get("error", ""))[:200],
            hint="save the model after training, to the path in model_path",
        )
    return handin.model("model_path")


def _same_outputs(name: str, model, other, images) -> None:
    original = training_checks.predict(model, training_checks.model_inputs(model, images))
    again = training_checks.predict(other, training_checks.model_inputs(other, images))
    if original.shape != again.shape or float(np.abs(original - again).max()) > 1e-5:
        raise checks.CheckFailure(
            f"saved model: {name} predicts differently from `model`",
            expected="the same probabilities as `model` on every test image",
            found=f"outputs {again.shape[1:]} per image"
            if original.shape != again.shape
            else f"probabilities differing by up to {float(np.abs(original - again).max()):.3g}",
            hint="save the trained model (after fit), then load that same file",
        )


def test_saved_model(handin, mnist):
    _, (x_test, _) = mnist
    images = x_test[:2000]
    model = handin.model("model")
    with checks.gather() as each:
        with each:
            _same_outputs("the file at `model_path`", model, _saved_file(handin), images)
        with each:
            if handin.same_object("reloaded_model", "model"):
                raise checks.CheckFailure(
                    "saved model: `reloaded_model` is `model` itself",
                    expected="reloaded_model = keras.models.load_model(model_path) (or "
                    "keras.saving.load_model(model_path))",
                    found="reloaded_model = model: the same object under a second name",
                    hint="a second name for the model proves nothing: load the file",
                )
            reloaded = handin.model("reloaded_model")
            if not getattr(reloaded, "compiled", False):
                raise checks.CheckFailure(
                    "saved model: `reloaded_model` was not loaded from a .keras file",
                    expected="a model loaded with keras.models.load_model(model_path): "
                    "compiled, with the loss and optimizer of `model`",
                    found="a model without compile settings (a copy, not a loaded file)",
                    hint="load_model restores the whole model, compile settings included",
                )
            _same_outputs("`reloaded_model`", model, reloaded, images)
        with each:
            same = handin.value("same_predictions")
            if same is not True:
                raise checks.CheckFailure(
                    "saved model: `same_predictions` is not True",
                    expected="np.allclose(model.predict(X_test_scaled), "
                    "reloaded_model.predict(X_test_scaled))",
                    found=f"same_predictions = {same!r}",
                )
