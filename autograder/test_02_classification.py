"""Hidden graders of lesson 02_classification: sigmoid/softmax outputs and cross-entropy losses.

Each test is one grade cell (test id = grade_id). The graders reload the student's models
from the hand-in, standardise the course's fixed splits themselves and measure the models
on them. The training targets are handed in so that a loss that does not match the target
encoding (one-hot rows vs integer labels) can be named for what it is.
"""

import numpy as np
import pytest

from course_lib import checks, data, inspection, training_checks
from course_lib.grader import calibration
from course_lib.inspection import LayerRecord

LESSON = "02_classification"

HANDIN = {
    "binary_model": "model",
    "binary_history": "history",
    "binary_pred": "array",
    "y_wine_train_onehot": "array",
    "onehot_model": "model",
    "onehot_history": "history",
    "y_wine_train_sparse": "array",
    "sparse_model": "model",
    "sparse_history": "history",
    "wine_pred": "array",
    "decision_table": "value",
}

# Test accuracy of the reference solution on the course splits over seeds (binary: Adam 1e-3,
# wine: Adam 1e-2; 30 epochs, batch 16): see autograder/calibration/02_classification.json.
# Margins: two more misclassified tumours (of 114), one more misclassified wine (of 45); far
# above always predicting the majority class (0.63 and 0.40).
CALIBRATED = {
    "binary_accuracy": calibration.Bound(
        "at_least", margin=2 / 114, step=0.01, why="two more misclassified test tumours of 114"
    ),
    "onehot_accuracy": calibration.Bound(
        "at_least", margin=1 / 45, step=0.01, why="one more misclassified test wine of 45"
    ),
    "sparse_accuracy": calibration.Bound(
        "at_least", margin=1 / 45, step=0.01, why="one more misclassified test wine of 45"
    ),
}
LIMITS = calibration.thresholds(__file__, LESSON)

# Predicted labels must be the labels the handed-in model predicts on the test rows; only a
# probability within float noise of a tie (0.5, or two equal top classes) may flip.
TIE = 1e-4

EPOCHS, BATCH_SIZE, VALIDATION_SPLIT = 30, 16, 0.2
LEARNING_RATE = {"binary_model": 0.001, "onehot_model": 0.01, "sparse_model": 0.01}

N_CLASSES = 3

BINARY_LAYERS = [LayerRecord("Dense", units=1, activation="sigmoid", input_shape=(30,))]
MULTICLASS_LAYERS = [LayerRecord("Dense", units=N_CLASSES, activation="softmax", input_shape=(13,))]

BINARY_HINTS = {
    "activation": "one probability (of label 1) needs the sigmoid, "
    "which maps any score into (0, 1)",
    "units": "two classes need a single output unit: the probability of label 1 "
    "(the probability of label 0 is one minus it)",
    "extra": "this lesson's binary classifier is logistic regression: "
    "Input then one Dense(1, sigmoid)",
    "missing": 'the model needs one Dense(1, activation="sigmoid") layer',
    "type": "use a Dense layer: every input connected to the output",
}

MULTICLASS_HINTS = {
    "activation": "softmax turns the 3 scores into 3 probabilities that add up to 1; "
    "sigmoid would score every class on its own and the outputs would not form a distribution",
    "units": "one output unit per class: 3 wine cultivars, 3 units",
    "extra": "this lesson's multi-class model is Input then one Dense(3, softmax)",
    "missing": 'the model needs one Dense(3, activation="softmax") layer',
    "type": "use a Dense layer: every input connected to the output",
}

ENCODING_OF = {"onehot_model": "one-hot rows", "sparse_model": "integer labels"}


def _standardised(split):
    mean, std = split.X_train.mean(axis=0), split.X_train.std(axis=0)
    return (split.X_train - mean) / std, (split.X_test - mean) / std


@pytest.fixture(scope="module")
def cancer():
    split = data.load_breast_cancer_split()
    return split, *_standardised(split)


@pytest.fixture(scope="module")
def wine():
    split = data.load_wine_split()
    return split, *_standardised(split)


def _probabilities(name: str, model, X) -> np.ndarray:
    try:
        return np.asarray(model.predict(X, verbose=0), dtype="float64")
    except Exception as exc:
        raise checks.CheckFailure(
            f"{name}: the model cannot predict on the test features",
            expected=f"input of shape (None, {X.shape[1]})",
            found=type(exc).__name__,
        ) from None


def _binary_labels(probabilities: np.ndarray) -> np.ndarray:
    return (probabilities.reshape(len(probabilities), -1)[:, 0] > 0.5).astype("int64")


def _multiclass_labels(probabilities: np.ndarray) -> np.ndarray:
    return probabilities.reshape(len(probabilities), -1).argmax(axis=1)


def _check_output(name: str, model, expected, hints) -> None:
    """The layers equal ``expected``, with a precise word for a softmax on one unit."""
    records = inspection.layer_records(model)
    last = records[-1] if records else None
    if last is not None and last.units == 1 and last.activation == "softmax":
        raise checks.CheckFailure(
            f"{name} › output layer: softmax on a single unit",
            expected=expected[-1].describe(),
            found=last.describe(),
            hint="softmax divides every output by the sum of all outputs: with one unit it "
            "returns 1.0 whatever the input, so the model can never predict label 0. "
            "One probability needs the sigmoid",
        )
    with checks.about(name):
        checks.check_layers(model, expected, hints=hints)


def test_binary_architecture(handin):
    model = handin.model("binary_model")
    with checks.gather() as each:
        with each:
            _check_output("binary_model", model, BINARY_LAYERS, BINARY_HINTS)
        with each, checks.about("binary_model"):
            checks.check_input_declared(
                handin.answer_source("part_a_answer"),
                part="Part A",
                expected="keras.Input(shape=(30,))",
            )


def test_binary_compile(handin):
    model = handin.model("binary_model")
    with checks.about("binary_model"):
        checks.check_compile(
            model,
            loss="binary_crossentropy",
            optimizer="adam",
            metrics=["accuracy"],
            learning_rate=LEARNING_RATE["binary_model"],
            hints={
                "loss": "a single sigmoid probability is scored with binary_crossentropy; "
                "categorical losses expect one output per class, mse is for regression",
                "optimizer": "the task asks for Adam",
                "learning_rate": 'optimizer="adam" uses Adam\'s default step, 0.001',
                "metrics": "report the accuracy: the fraction of tumours classified correctly",
            },
        )


def test_multiclass_architecture(handin):
    models = dict(
        zip(
            ("onehot_model", "sparse_model"),
            handin.models("onehot_model", "sparse_model"),
            strict=True,
        )
    )
    with checks.gather() as each:
        for name, part, cell in (
            ("onehot_model", "Part C", "part_c_answer"),
            ("sparse_model", "Part D", "part_d_answer"),
        ):
            with each:
                _check_output(name, models[name], MULTICLASS_LAYERS, MULTICLASS_HINTS)
            with each, checks.about(name):
                checks.check_input_declared(
                    handin.answer_source(cell), part=part, expected="keras.Input(shape=(13,))"
                )


def _encoding(target: np.ndarray) -> str:
    """How a training target is written: "one-hot" rows, "integer" labels, or "other"."""
    if target.ndim == 2 and target.shape[1] == N_CLASSES:
        return "one-hot"
    if target.ndim == 1 or (target.ndim == 2 and target.shape[1] == 1):
        return "integer"
    return "other"


def _check_loss_matches_target(name: str, target_name: str, model, target: np.ndarray) -> None:
    settings = inspection.compile_settings(model)
    loss = settings.loss if settings else None
    encoding = _encoding(target)
    if loss == "sparse_categorical_crossentropy" and encoding == "one-hot":
        raise checks.CheckFailure(
            f"{name} › compile settings: sparse_categorical_crossentropy on one-hot targets",
            expected='loss="categorical_crossentropy" for one-hot rows such as [0, 0, 1] '
            "(or integer labels with the sparse loss)",
            found=f"`{target_name}` of shape {target.shape} (one-hot rows) with "
            'loss="sparse_categorical_crossentropy"',
            hint="the sparse loss expects one integer label per row and reads the probability "
            "at that index; one-hot rows go with categorical_crossentropy",
        )
    if loss == "categorical_crossentropy" and encoding == "integer":
        raise checks.CheckFailure(
            f"{name} › compile settings: categorical_crossentropy on integer targets",
            expected='loss="sparse_categorical_crossentropy" for integer labels '
            "(or one-hot rows with the categorical loss)",
            found=f"`{target_name}` of shape {target.shape} (integer labels) with "
            'loss="categorical_crossentropy"',
            hint="categorical_crossentropy compares the 3 probabilities with a one-hot row of 3 "
            "numbers; an integer label must first go through keras.utils.to_categorical",
        )


def _check_onehot_target(target, y_train) -> None:
    expected = np.eye(N_CLASSES)[y_train]
    if target.shape != expected.shape or not np.allclose(target, expected):
        raise checks.CheckFailure(
            "`y_wine_train_onehot`: not the one-hot training labels",
            expected=f"keras.utils.to_categorical(y_wine_train, n_classes): shape {expected.shape}",
            found=f"shape {target.shape}"
            + ("" if target.shape != expected.shape else ", other values"),
            hint="row i has a 1 in column y_wine_train[i] and 0 elsewhere",
        )


def _check_sparse_target(target, y_train) -> None:
    n_train = len(y_train)
    if target.reshape(-1).shape != (n_train,) or not np.array_equal(target.reshape(-1), y_train):
        raise checks.CheckFailure(
            "`y_wine_train_sparse`: not the integer training labels",
            expected=f"y_wine_train as it is: shape ({n_train},), values 0, 1, 2",
            found=f"shape {target.shape}"
            + ("" if target.reshape(-1).shape != (n_train,) else ", other values"),
            hint="the sparse loss takes the integer labels directly: no one-hot encoding",
        )


def test_multiclass_compile(handin, wine):
    split = wine[0]
    onehot_target = handin.array("y_wine_train_onehot")
    sparse_target = handin.array("y_wine_train_sparse")
    models = dict(
        zip(
            ("onehot_model", "sparse_model"),
            handin.models("onehot_model", "sparse_model"),
            strict=True,
        )
    )
    with checks.gather() as each:
        with each:
            _check_onehot_target(onehot_target, split.y_train)
        with each:
            _check_sparse_target(sparse_target, split.y_train)
        for name, target_name, target, loss in (
            ("onehot_model", "y_wine_train_onehot", onehot_target, "categorical_crossentropy"),
            (
                "sparse_model",
                "y_wine_train_sparse",
                sparse_target,
                "sparse_categorical_crossentropy",
            ),
        ):
            model = models[name]
            mismatch = False
            with each:
                try:
                    _check_loss_matches_target(name, target_name, model, target)
                except checks.CheckFailure:
                    mismatch = True  # named once, for what it is, not again as "wrong loss"
                    raise
            with each, checks.about(name):
                checks.check_compile(
                    model,
                    loss=None if mismatch else loss,
                    optimizer="adam",
                    metrics=["accuracy"],
                    learning_rate=LEARNING_RATE[name],
                    hints={
                        "loss": f"softmax over 3 classes trained on {ENCODING_OF[name]} "
                        f"is scored with {loss}",
                        "optimizer": "the task asks for keras.optimizers.Adam(learning_rate=0.01)",
                        "learning_rate": "the task asks for "
                        "keras.optimizers.Adam(learning_rate=0.01): ten times the default step",
                        "metrics": "report the accuracy: the fraction of wines classified "
                        "correctly",
                    },
                )


def _check_labels_of(name, labels, model_name, probabilities, to_labels, how) -> None:
    """``labels`` are the model's own labels, except where a probability is a tie."""
    own = to_labels(probabilities)
    flat = probabilities.reshape(len(probabilities), -1)
    if flat.shape[1] == 1:
        margin = np.abs(flat[:, 0] - 0.5)
    else:
        top = np.sort(flat, axis=1)
        margin = top[:, -1] - top[:, -2]
    differ = (labels != own) & (margin > TIE)
    if differ.any():
        raise checks.CheckFailure(
            f"`{name}`: not the labels {model_name} predicts",
            expected=f"the labels of {model_name} on the test rows",
            found=f"{int(differ.sum())} of {len(labels)} labels differ",
            hint=how,
        )


def test_predictions(handin, cancer, wine):
    cancer_split, _, X_cancer_test = cancer
    wine_split, _, X_wine_test = wine
    with checks.gather() as each:
        for name, model_name, split, X_test, to_labels, n_classes, how in (
            (
                "binary_pred",
                "binary_model",
                cancer_split,
                X_cancer_test,
                _binary_labels,
                2,
                "compare the probabilities of X_cancer_test with 0.5",
            ),
            (
                "wine_pred",
                "sparse_model",
                wine_split,
                X_wine_test,
                _multiclass_labels,
                N_CLASSES,
                "take np.argmax(..., axis=1) of the probabilities of X_wine_test",
            ),
        ):
            with each:
                labels = checks.check_labels(
                    name, handin.array(name), len(split.y_test), n_classes=n_classes
                )
                probabilities = _probabilities(model_name, handin.model(model_name), X_test)
                _check_labels_of(name, labels, model_name, probabilities, to_labels, how)


# What the decision table accepts, per task and column (canonical names).
TABLE = {
    "regression": {
        "activation": (
            {"linear"},
            "a regression output must take any real value: no activation (linear)",
        ),
        "loss": (
            {"mean_squared_error", "mean_absolute_error", "huber"},
            "regression minimises a distance such as the mean squared error",
        ),
        "metric": (
            {"mean_absolute_error", "mean_squared_error", "root_mean_squared_error"},
            "report an error in the target's units, e.g. the mean absolute error",
        ),
    },
    "binary": {
        "activation": ({"sigmoid"}, "one probability in (0, 1): sigmoid"),
        "loss": (
            {"binary_crossentropy"},
            "a single sigmoid probability goes with binary_crossentropy",
        ),
        "metric": ({"accuracy", "auc", "precision", "recall"}, "report the accuracy"),
    },
    "multiclass": {
        "activation": ({"softmax"}, "one probability per class, summing to 1: softmax"),
        "loss": (
            {"categorical_crossentropy"},
            "for one-hot targets: categorical_crossentropy (sparse_categorical_crossentropy "
            "is the loss for integer labels)",
        ),
        "metric": ({"accuracy"}, "report the accuracy"),
    },
}


def _canonical(column: str, value) -> str | None:
    if column == "activation":
        return "linear" if value is None else str(value).strip().lower()
    if not isinstance(value, str):
        return None
    if column == "loss":
        return inspection.normalise_loss(value.strip())
    return inspection.normalise_metric(value.strip())


def test_decision_table(handin):
    table = handin.value("decision_table")
    if not isinstance(table, dict) or set(table) != set(TABLE):
        raise checks.CheckFailure(
            "`decision_table`: wrong keys",
            expected='a dict with the keys "regression", "binary", "multiclass"',
            found=f"keys {sorted(table)}" if isinstance(table, dict) else type(table).__name__,
        )
    with checks.gather() as each:
        for task, columns in TABLE.items():
            row = table[task]
            if not isinstance(row, dict) or set(row) != set(columns):
                with each:
                    raise checks.CheckFailure(
                        f'`decision_table["{task}"]`: wrong keys',
                        expected='a dict with the keys "activation", "loss", "metric"',
                        found=f"keys {sorted(row)}"
                        if isinstance(row, dict)
                        else type(row).__name__,
                    )
                continue
            for column, (accepted, hint) in columns.items():
                if _canonical(column, row[column]) not in accepted:
                    with each:
                        raise checks.CheckFailure(
                            f'`decision_table["{task}"]["{column}"]`: wrong answer',
                            found=repr(row[column]),
                            hint=hint,
                        )


def _accuracy(handin, name: str, split, X_test, to_labels) -> float:
    labels = to_labels(_probabilities(name, handin.model(name), X_test))
    return float((labels == split.y_test).mean()) if labels.shape == split.y_test.shape else 0.0


def measure_binary_accuracy(handin) -> float:
    split = data.load_breast_cancer_split()
    return _accuracy(handin, "binary_model", split, _standardised(split)[1], _binary_labels)


def measure_onehot_accuracy(handin) -> float:
    split = data.load_wine_split()
    return _accuracy(handin, "onehot_model", split, _standardised(split)[1], _multiclass_labels)


def measure_sparse_accuracy(handin) -> float:
    split = data.load_wine_split()
    return _accuracy(handin, "sparse_model", split, _standardised(split)[1], _multiclass_labels)


def test_quality(handin, cancer, wine):
    with checks.gather() as each:
        for metric, measure, name, what in (
            ("binary_accuracy", measure_binary_accuracy, "binary_model", "tumours"),
            ("onehot_accuracy", measure_onehot_accuracy, "onehot_model", "wines"),
            ("sparse_accuracy", measure_sparse_accuracy, "sparse_model", "wines"),
        ):
            with each:
                checks.check_at_least(
                    f"{name}: test accuracy",
                    measure(handin),
                    LIMITS[metric],
                    hint=f"the fraction of test {what} classified correctly; check the output "
                    "layer, the loss and that the model was trained with the fit call given",
                )
        for history, split in (
            ("binary_history", cancer[0]),
            ("onehot_history", wine[0]),
            ("sparse_history", wine[0]),
        ):
            with each:
                training_checks.check_fit(
                    handin.history(history),
                    n_rows=len(split.y_train),
                    batch_size=BATCH_SIZE,
                    epochs=EPOCHS,
                    validation_split=VALIDATION_SPLIT,
                    label=f"`{history}`",
                )
