"""Hidden graders of lesson 01_regression: Sequential linear regression on diabetes.

Each test is one grade cell (test id = grade_id). The graders reload the student's model
from its hand-in and measure it on the split they load themselves; the answers the task
defines (statistics, predictions, evaluated errors) are compared with what that model
itself gives, in the units the task asks for.
"""

import math

import numpy as np
import pytest

from course_lib import checks, data, training_checks
from course_lib.grader import calibration
from course_lib.inspection import LayerRecord

LESSON = "01_regression"

HANDIN = {
    "model": "model",
    "X_train_scaled": "array",
    "X_test_scaled": "array",
    "y_train_scaled": "array",
    "y_mean": "value",
    "y_std": "value",
    "n_params": "value",
    "history": "history",
    "test_mse": "value",
    "test_mae": "value",
    "y_pred": "array",
}

# Test-set MAE (disease-progression units) of the reference solution over seeds: see
# autograder/calibration/01_regression.json (`course calibrate 01_regression`). For scale:
# the OLS optimum is 42.79, always predicting the training mean scores 64.0.
CALIBRATED = {
    "test_mae": calibration.Bound(
        "at_most",
        margin=0.10,
        relative=True,
        step=0.5,
        why="room for seeds and machines not measured",
    ),
}
LIMITS = calibration.thresholds(__file__, LESSON)

EPOCHS, BATCH_SIZE, VALIDATION_SPLIT = 100, 16, 0.2

EXPECTED_LAYERS = [LayerRecord("Dense", units=1, activation="linear", input_shape=(10,))]

LAYER_HINTS = {
    "activation": "a regression output must be free to take any real value: "
    "leave the activation out (linear)",
    "units": "one target value per patient means one output unit",
    "extra": "linear regression needs no hidden layer: the input goes straight to Dense(1)",
    "missing": "the model needs exactly one Dense(1) layer",
    "type": "use a Dense layer: every input connected to the output",
}


@pytest.fixture(scope="module")
def split():
    return data.load_diabetes_split()


def _scaled_test_features(split) -> np.ndarray:
    mean, std = split.X_train.mean(axis=0), split.X_train.std(axis=0)
    return (split.X_test - mean) / std


def _predict(model, X) -> np.ndarray:
    try:
        return np.asarray(model.predict(X, verbose=0), dtype="float64").reshape(-1)
    except Exception as exc:
        raise checks.CheckFailure(
            "test error: the model cannot predict on the test features",
            expected=f"input of shape (None, {X.shape[1]})",
            found=f"{type(exc).__name__}",
        ) from None


def measure_test_mae(handin) -> float:
    """The model's mean absolute error on the test split, in disease-progression units."""
    split = data.load_diabetes_split()
    predictions = _predict(handin.model("model"), _scaled_test_features(split))
    if predictions.shape != split.y_test.shape:
        raise checks.CheckFailure(
            "test error: wrong prediction shape",
            expected=f"one value per patient: {split.y_test.shape[0]}",
            found=f"{predictions.size} values",
        )
    y_mean, y_std = split.y_train.mean(), split.y_train.std()
    return float(np.abs(predictions * y_std + y_mean - split.y_test).mean())


def _check_statistic(name: str, value, expected: float, what: str) -> None:
    if value is None:
        raise checks.none_answer(name)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise checks.CheckFailure(
            f"`{name}`: not a number", expected=what, found=f"{type(value).__name__}"
        )
    if not math.isclose(value, expected, rel_tol=1e-4):
        raise checks.CheckFailure(
            f"`{name}`: wrong value",
            expected=what,
            found=f"{name} = {checks.number(value)}",
            hint="use the training target only: y_train.mean() and y_train.std()",
        )


def test_preprocessing(handin, split):
    with checks.gather() as each:
        with each:
            checks.check_standardised(
                "X_train_scaled", handin.array("X_train_scaled"), split.X_train, split.X_train
            )
        with each:
            checks.check_standardised(
                "X_test_scaled",
                handin.array("X_test_scaled"),
                split.X_test,
                split.X_train,
                leak_reference=split.X_test,
            )
        with each:
            checks.check_standardised(
                "y_train_scaled", handin.array("y_train_scaled"), split.y_train, split.y_train
            )
        with each:
            _check_statistic(
                "y_mean", handin.value("y_mean"), float(split.y_train.mean()), "y_train.mean()"
            )
        with each:
            _check_statistic(
                "y_std", handin.value("y_std"), float(split.y_train.std()), "y_train.std()"
            )


def test_architecture(handin):
    model = handin.model("model")
    with checks.gather() as each:
        with each:
            checks.check_layers(model, EXPECTED_LAYERS, hints=LAYER_HINTS)
        with each:
            checks.check_input_declared(
                handin.answer_source("part_b_answer"),
                part="Part B",
                expected="keras.Input(shape=(n_features,))",
            )


def test_parameter_count(handin, split):
    n_features = split.X_train.shape[1]
    with checks.gather() as each:
        with each:
            checks.check_answer_int(
                "n_params",
                handin.value("n_params"),
                n_features + 1,
                hint="one weight per input feature, plus one bias",
            )
        with each:
            checks.check_counted_by_hand(
                "n_params",
                handin.answer_source("part_c_answer"),
                part="Part C",
                hint="work it out from n_features: one weight per feature, plus one bias",
            )
        with each:
            checks.check_param_count(handin.model("model"), n_features + 1)


def test_compile_settings(handin):
    checks.check_compile(
        handin.model("model"),
        loss="mse",
        optimizer="adam",
        metrics=["mae"],
        learning_rate=0.001,
        hints={
            "loss": "regression minimises the mean squared error; cross-entropy losses are for "
            "classification",
            "optimizer": "the task asks for Adam",
            "learning_rate": 'optimizer="adam" uses Adam\'s default step, 0.001',
            "metrics": "report the mean absolute error: it is in the target's own units",
        },
    )


def _check_predictions(handin, split, model) -> None:
    """`y_pred` is the model's own prediction of the test rows, in disease-progression units."""
    y_pred = checks.check_array("y_pred", handin.array("y_pred"), shape=split.y_test.shape)
    X_test = np.asarray(handin.array("X_test_scaled"), dtype="float32")
    if X_test.shape != split.X_test.shape:
        X_test = _scaled_test_features(split)
    raw = _predict(model, X_test)
    y_mean, y_std = float(split.y_train.mean()), float(split.y_train.std())
    in_units = raw * y_std + y_mean
    y_pred = np.asarray(y_pred, dtype="float64")
    if np.allclose(y_pred, in_units, rtol=1e-3, atol=1e-2 * y_std):
        return
    shown = f"values from {y_pred.min():.3g} to {y_pred.max():.3g}"
    if np.allclose(y_pred, raw, rtol=1e-3, atol=1e-3):
        raise checks.CheckFailure(
            "`y_pred`: in standardised units",
            expected=f"disease-progression units: values from {in_units.min():.0f} to "
            f"{in_units.max():.0f} for your model",
            found=f"{shown}: the model's raw (scaled) output",
            hint="the model was trained on the scaled target: turn its predictions back with "
            "* y_std + y_mean",
        )
    raise checks.CheckFailure(
        "`y_pred`: not your model's predictions of the test rows",
        expected=f"model.predict(X_test_scaled).ravel() * y_std + y_mean: values from "
        f"{in_units.min():.0f} to {in_units.max():.0f}",
        found=shown,
        hint="predict X_test_scaled with the trained model, flatten, then undo the target's "
        "scaling",
    )


def _check_evaluated(handin, split, model) -> None:
    """`test_mse`, `test_mae` are what the model's own evaluate gives on the scaled test data."""
    X_test = np.asarray(handin.array("X_test_scaled"), dtype="float32")
    if X_test.shape != split.X_test.shape:
        X_test = _scaled_test_features(split)
    y_mean, y_std = split.y_train.mean(), split.y_train.std()
    scaled_target = (split.y_test - y_mean) / y_std
    try:
        evaluated = model.evaluate(X_test, scaled_target, batch_size=1000, verbose=0)
    except Exception:  # never compiled: the compile test says so
        return
    evaluated = evaluated if isinstance(evaluated, list) else [evaluated]
    for name, want in zip(("test_mse", "test_mae"), evaluated, strict=False):
        value = handin.value(name)
        if value is None:
            raise checks.none_answer(name)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise checks.CheckFailure(
                f"`{name}`: not a number",
                expected="a float: test_mse, test_mae = model.evaluate(...)",
                found=type(value).__name__,
            )
        if not math.isclose(value, want, rel_tol=2e-3, abs_tol=1e-4):
            raise checks.CheckFailure(
                f"`{name}`: not your model's error on the scaled test data",
                expected=f"{name} = {checks.number(want)} (model.evaluate on X_test_scaled and "
                "(y_test - y_mean) / y_std)",
                found=f"{name} = {checks.number(value)}",
                hint="evaluate in scaled units: the target scaled with y_mean and y_std, "
                "as the model was trained",
            )


def test_quality(handin, split):
    model = handin.model("model")
    with checks.gather() as each:
        with each:
            checks.check_at_most(
                "test mean absolute error",
                measure_test_mae(handin),
                LIMITS["test_mae"],
                hint="train on the standardised features and target for the stated epochs; "
                "predictions are in scaled units until multiplied by y_std and shifted by y_mean",
            )
        with each:
            training_checks.check_fit(
                handin.history("history"),
                n_rows=len(split.y_train),
                batch_size=BATCH_SIZE,
                epochs=EPOCHS,
                validation_split=VALIDATION_SPLIT,
            )
        if handin.has("history"):  # the names below come from the same cell
            with each:
                _check_predictions(handin, split, model)
            with each:
                _check_evaluated(handin, split, model)
