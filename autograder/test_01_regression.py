"""Hidden graders of lesson 01_regression: Sequential linear regression on diabetes.

Each test is one grade cell (test id = grade_id). The graders reload the student's model
from its hand-in and measure it on the split they load themselves.
"""

import ast

import numpy as np
import pytest

from course_lib import checks, data
from course_lib.inspection import LayerRecord

LESSON = "01_regression"

HANDIN = {
    "model": "model",
    "X_train_scaled": "array",
    "X_test_scaled": "array",
    "y_train_scaled": "array",
    "n_params": "value",
}

# Test-set MAE (disease-progression units) of the reference solution, 100 epochs, batch 16,
# seeds 0-4 on the 2-core CI machine: min 43.27, median 43.57, max 44.55 (OLS optimum: 42.79;
# always predicting the training mean: 64.0). Threshold: worst seed + 10 % margin.
MAX_TEST_MAE = 49.0

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


def _declares_input(source: str) -> bool:
    """The answer code gives the model an input shape (keras.Input(...) or input_shape=...)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in {"Input", "InputLayer"}:
                return True
            if any(k.arg in {"input_shape", "input_dim"} for k in node.keywords):
                return True
    return False


def test_preprocessing(handin, split):
    checks.check_standardised(
        "X_train_scaled", handin.array("X_train_scaled"), split.X_train, split.X_train
    )
    checks.check_standardised(
        "X_test_scaled",
        handin.array("X_test_scaled"),
        split.X_test,
        split.X_train,
        leak_reference=split.X_test,
    )
    checks.check_standardised(
        "y_train_scaled", handin.array("y_train_scaled"), split.y_train, split.y_train
    )


def test_architecture(handin):
    model = handin.model("model")
    checks.check_layers(model, EXPECTED_LAYERS, hints=LAYER_HINTS)
    if not _declares_input(handin.answer_source("part_b_answer")):
        raise checks.CheckFailure(
            "input shape: missing",
            expected="keras.Input(shape=(n_features,)) as the first item of the Sequential list",
            found="no keras.Input in the model definition",
            hint="without an input shape Keras cannot build the model or count its parameters "
            "until it first sees data",
        )


def test_parameter_count(handin, split):
    n_features = split.X_train.shape[1]
    checks.check_answer_int(
        "n_params",
        handin.value("n_params"),
        n_features + 1,
        hint="one weight per input feature, plus one bias",
    )
    checks.check_param_count(handin.model("model"), n_features + 1)


def test_compile_settings(handin):
    checks.check_compile(
        handin.model("model"),
        loss="mse",
        optimizer="adam",
        metrics=["mae"],
        hints={
            "loss": "regression minimises the mean squared error; cross-entropy losses are for "
            "classification",
            "optimizer": "the task asks for Adam",
            "metrics": "report the mean absolute error: it is in the target's own units",
        },
    )


def test_quality(handin, split):
    model = handin.model("model")
    mean, std = split.X_train.mean(axis=0), split.X_train.std(axis=0)
    X_test = (split.X_test - mean) / std
    y_mean, y_std = split.y_train.mean(), split.y_train.std()
    try:
        predictions = np.asarray(model.predict(X_test, verbose=0), dtype="float64").reshape(-1)
    except Exception as exc:
        raise checks.CheckFailure(
            "test error: the model cannot predict on the test features",
            expected=f"input of shape (None, {X_test.shape[1]})",
            found=f"{type(exc).__name__}",
        ) from None
    if predictions.shape != split.y_test.shape:
        raise checks.CheckFailure(
            "test error: wrong prediction shape",
            expected=f"one value per patient: {split.y_test.shape[0]}",
            found=f"{predictions.size} values",
        )
    mae = float(np.abs(predictions * y_std + y_mean - split.y_test).mean())
    checks.check_at_most(
        "test mean absolute error",
        mae,
        MAX_TEST_MAE,
        hint="train on the standardised features and target for the stated epochs; "
        "predictions are in scaled units until multiplied by y_std and shifted by y_mean",
    )
