"""Do the shared checks pass a correct tiny model and fail a wrong one with the right first line?"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from course_lib import checks, inspection
from course_lib.checks import CheckFailure
from course_lib.inspection import LayerRecord

EXPECTED = [
    LayerRecord("Dense", units=4, activation="relu", input_shape=(3,)),
    LayerRecord("Dense", units=1, activation="sigmoid"),
]


def first_line(excinfo) -> str:
    return str(excinfo.value).splitlines()[0]


def sequential(*stack, shape=(3,)):
    return keras.Sequential([keras.Input(shape=shape), *stack])


def test_check_layers_accepts_matching_model():
    checks.check_layers(
        sequential(layers.Dense(4, activation="relu"), layers.Dense(1, activation="sigmoid")),
        EXPECTED,
    )


def test_check_layers_accepts_separate_activation_layer_and_functional_api():
    inputs = keras.Input(shape=(3,))
    hidden = layers.Activation("relu")(layers.Dense(4)(inputs))
    outputs = layers.Dense(1, activation="sigmoid")(hidden)
    checks.check_layers(keras.Model(inputs, outputs), EXPECTED)


def test_check_layers_reports_wrong_output_activation():
    model = sequential(layers.Dense(4, activation="relu"), layers.Dense(1, activation="softmax"))
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_layers(model, EXPECTED, hints={"activation": "squash to a probability"})
    assert first_line(excinfo) == "output layer: wrong activation"
    assert excinfo.value.found.startswith('Dense(units=1, activation="softmax")')
    assert excinfo.value.hint == "squash to a probability"


def test_check_layers_reports_wrong_units_of_hidden_layer():
    model = sequential(layers.Dense(8, activation="relu"), layers.Dense(1, activation="sigmoid"))
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_layers(model, EXPECTED)
    assert first_line(excinfo) == "layer 1 (Dense): wrong units"


def test_check_layers_reports_missing_and_extra_layers():
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_layers(sequential(layers.Dense(1, activation="sigmoid")), EXPECTED)
    assert first_line(excinfo) == "missing layer: Dense"
    model = sequential(
        layers.Dense(4, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(1, activation="sigmoid"),
    )
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_layers(model, EXPECTED)
    assert first_line(excinfo) == "unexpected layer: Dropout"


def test_check_layers_reports_wrong_input_shape_and_unbuilt_model():
    model = sequential(
        layers.Dense(4, activation="relu"), layers.Dense(1, activation="sigmoid"), shape=(5,)
    )
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_layers(model, EXPECTED)
    assert first_line(excinfo) == "input shape: wrong"
    unbuilt = keras.Sequential(
        [layers.Dense(4, activation="relu"), layers.Dense(1, activation="sigmoid")]
    )
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_layers(unbuilt, EXPECTED)
    assert first_line(excinfo) == "input shape: missing"


def test_check_param_count():
    model = sequential(layers.Dense(10), shape=(100,))
    checks.check_param_count(model, 1010)
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_param_count(model, 1000)
    assert first_line(excinfo) == "parameter count: wrong"
    assert excinfo.value.found == "1,010 parameters"


def test_check_answer_int():
    checks.check_answer_int("n_params", np.int64(11), 11)
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_answer_int("n_params", 10, 11, hint="weights plus bias")
    assert first_line(excinfo) == "`n_params`: wrong value"
    assert excinfo.value.expected is None  # a hint given: the answer is not revealed
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_answer_int("n_params", 11.0, 11)
    assert first_line(excinfo) == "`n_params`: not a whole number"


@pytest.mark.parametrize(
    ("loss", "optimizer", "metrics"),
    [
        ("mse", "adam", ["mae"]),
        ("mean_squared_error", "Adam", ["mean_absolute_error"]),
        (
            keras.losses.MeanSquaredError(),
            keras.optimizers.Adam(0.01),
            [keras.metrics.MeanAbsoluteError()],
        ),
        (keras.losses.mean_squared_error, "adam", ["mae", "mse"]),
    ],
)
def test_check_compile_accepts_equivalent_spellings(loss, optimizer, metrics):
    model = sequential(layers.Dense(1))
    model.compile(loss=loss, optimizer=optimizer, metrics=metrics)
    checks.check_compile(model, loss="mse", optimizer="adam", metrics=["mae"])


def test_check_compile_reports_each_wrong_setting():
    model = sequential(layers.Dense(1))
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_compile(model, loss="mse")
    assert first_line(excinfo) == "compile settings: the model was never compiled"
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["mae"])
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_compile(model, loss="mse", optimizer="adam", metrics=["mae"])
    assert first_line(excinfo) == "compile settings: wrong loss"
    model.compile(loss="mse", optimizer="sgd", metrics=["mae"])
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_compile(model, loss="mse", optimizer="adam", metrics=["mae"])
    assert first_line(excinfo) == "compile settings: wrong optimizer"
    model.compile(loss="mse", optimizer="adam", metrics=["mse"])
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_compile(model, loss="mse", optimizer="adam", metrics=["mae"])
    assert first_line(excinfo) == 'compile settings: missing metric "mean_absolute_error"'


def test_check_compile_accepts_acc_for_accuracy():
    model = sequential(layers.Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["acc"])
    checks.check_compile(model, loss="binary_crossentropy", metrics=["accuracy"])


def test_check_standardised_tells_leak_from_raw_from_wrong():
    rng = np.random.default_rng(0)
    train = rng.normal(5, 2, size=(200, 3))
    test = rng.normal(6, 3, size=(50, 3))
    mean, std = train.mean(axis=0), train.std(axis=0)
    checks.check_standardised(
        "X_test_scaled", (test - mean) / std, test, train, leak_reference=test
    )
    cases = {
        "`X_test_scaled`: standardised with its own statistics": (test - test.mean(0))
        / test.std(0),
        "`X_test_scaled`: not standardised": test,
        "`X_test_scaled`: not standardised with the training statistics": test / 10,
    }
    for expected_line, value in cases.items():
        with pytest.raises(CheckFailure) as excinfo:
            checks.check_standardised("X_test_scaled", value, test, train, leak_reference=test)
        assert first_line(excinfo) == expected_line
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_standardised("X_test_scaled", test[:10], test, train)
    assert first_line(excinfo) == "`X_test_scaled`: wrong shape"


def test_check_thresholds():
    checks.check_at_most("test error", 40.0, 49.0)
    checks.check_at_least("test accuracy", 0.98, 0.975)
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_at_most("test error", 60.0, 49.0)
    assert first_line(excinfo) == "test error: too high"
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_at_least("test accuracy", float("nan"), 0.975)
    assert first_line(excinfo) == "test accuracy: too low"


def test_failure_renders_what_expected_found_hint():
    failure = CheckFailure("output layer: wrong activation", "A", "B", "C", context="04_mnist_ann")
    assert str(failure).splitlines() == [
        "04_mnist_ann › output layer: wrong activation",
        "    expected: A",
        "    found:    B",
        "    hint:     C",
    ]


def test_inspection_normalises_names():
    assert inspection.normalise_loss("mse") == inspection.normalise_loss(
        keras.losses.MeanSquaredError()
    )
    assert inspection.normalise_loss(
        {"class_name": "function", "config": "mean_squared_error"}
    ) == ("mean_squared_error")
    assert inspection.normalise_optimizer(keras.optimizers.RMSprop()) == "rmsprop"
    assert inspection.normalise_metric("acc") == inspection.normalise_metric(
        "sparse_categorical_accuracy"
    )
    assert LayerRecord("MaxPool2D", pool_size=2) == LayerRecord("MaxPooling2D", pool_size=(2, 2))
