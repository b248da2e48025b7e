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


def test_gather_names_every_failure_and_keeps_a_single_one_as_it_is():
    with pytest.raises(CheckFailure) as excinfo, checks.gather() as each:
        with each:
            checks.check_answer_int("a", 1, 2)
        with each:
            checks.check_answer_int("b", 3, 3)  # passes
        with each:
            checks.check_answer_int("c", 5, 6)
    failure = excinfo.value
    assert first_line(excinfo) == "2 problems: `a`: wrong value; `c`: wrong value"
    assert [p.summary for p in failure.problems] == ["`a`: wrong value", "`c`: wrong value"]
    assert "  1) `a`: wrong value" in str(failure) and "  2) `c`: wrong value" in str(failure)
    with pytest.raises(CheckFailure) as excinfo, checks.gather() as each, each:
        checks.check_answer_int("a", 1, 2)
    assert first_line(excinfo) == "`a`: wrong value" and not excinfo.value.problems
    with checks.gather() as each, each:
        checks.check_answer_int("a", 2, 2)


def test_about_labels_every_gathered_problem():
    with pytest.raises(CheckFailure) as excinfo, checks.about("model"), checks.gather() as each:
        with each:
            checks.check_answer_int("a", 1, 2)
        with each:
            checks.check_answer_int("b", 1, 2)
    assert first_line(excinfo) == "2 problems: model › `a`: wrong value; model › `b`: wrong value"


def test_numbers_are_rounded_to_what_matters():
    assert checks.number(0.029999999329447746, 6) == "0.03"
    assert checks.number(0.9755999) == "0.9756"
    assert checks.number(101770) == "101,770"
    assert checks.number(True) == "True"


def test_none_answer_says_print_instead_of_return():
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_answer_int("dense_params(100, 10)", None, 1010)
    assert first_line(excinfo) == (
        "`dense_params(100, 10)` returned None: did you `print` instead of `return`?"
    )
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_answer_int("n_params", None, 11)
    assert first_line(excinfo) == "`n_params` is None: did you `print` instead of `return`?"


def test_check_compile_names_every_wrong_setting_and_rounds_the_learning_rate():
    model = sequential(layers.Dense(1))
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(0.03), metrics=[])
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_compile(
            model, loss="mse", optimizer="adam", metrics=["mae"], learning_rate=0.001
        )
    assert first_line(excinfo) == (
        "3 problems: compile settings: wrong loss; compile settings: wrong learning rate; "
        'compile settings: missing metric "mean_absolute_error"'
    )
    assert excinfo.value.problems[1].found == "learning_rate=0.03"


def test_check_compile_refuses_from_logits_on_probabilities():
    model = sequential(layers.Dense(3, activation="softmax"))
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="adam"
    )
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_compile(model, loss="sparse_categorical_crossentropy")
    assert first_line(excinfo) == "compile settings: from_logits=True on a softmax output"
    logits = sequential(layers.Dense(3))
    logits.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    checks.check_compile(logits, loss="sparse_categorical_crossentropy")


def test_check_learning_rate_schedule():
    model = sequential(layers.Dense(1))
    schedule = keras.optimizers.schedules.ExponentialDecay(0.003, decay_steps=10, decay_rate=0.5)
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(schedule))
    wanted = {"class_name": "ExponentialDecay", "initial_learning_rate": 0.003, "decay_rate": 0.5}
    checks.check_compile(model, learning_rate=wanted)
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_compile(model, learning_rate=0.003)
    assert excinfo.value.found.startswith("ExponentialDecay(initial_learning_rate=0.003")
    model.compile(loss="mse", optimizer="adam")
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_compile(model, learning_rate=wanted)
    assert excinfo.value.found == "learning_rate=0.001"


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("n_params = model.count_params()", "model.count_params()"),
        ("n_params = sum(w.size for w in model.weights)", "model.weights"),
        ("n_params = len(model.get_weights()[0]) + 1", "model.get_weights()"),
        ("total = model.count_params()\nn_params = total", "model.count_params()"),
        ("def count(m):\n    return m.count_params()\nn_params = count(model)", "m.count_params()"),
    ],
)
def test_counted_by_hand_finds_every_keras_spelling(source, found):
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_counted_by_hand("n_params", source, part="Part C", hint="by hand")
    assert first_line(excinfo) == "`n_params`: counted by Keras, not by hand"
    assert excinfo.value.found == f"{found} in the Part C answer"


def test_counted_by_hand_accepts_arithmetic_and_unreadable_cells():
    checks.check_counted_by_hand("n", "n = n_features * 1 + 1\nprint(n)", part="C", hint="")
    other = "m = model.count_params()\nn = 2 * 3 + 1"  # another answer's Keras call
    checks.check_counted_by_hand("n", other, part="C", hint="")
    checks.check_counted_by_hand("n", "", part="C", hint="")  # not recorded: not judged here
    checks.check_counted_by_hand("n", "%time n = (", part="C", hint="")


@pytest.mark.parametrize(
    "source",
    [
        "x = f(2, 16) + f(16, 1)",
        "x = sum(f(a, b) for a, b in [(2, 16), (16, 1)])",
        "x = 0\nfor a, b in pairs:\n    x += f(a, b)",
        "def total(pairs):\n    return sum(f(*p) for p in pairs)\nx = total(pairs)",
    ],
)
def test_computed_with_accepts_every_documented_spelling(source):
    checks.check_computed_with("x", source, "f", part="Part C", hint="h")


def test_computed_with_and_arithmetic_refuse_copied_numbers():
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_computed_with("x", "x = 48 + 17", "f", part="Part C", hint="h")
    assert first_line(excinfo) == "`x`: not computed with f"
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_written_as_arithmetic("conv1_params", "conv1_params = 160", part="B", hint="h")
    assert first_line(excinfo) == "`conv1_params`: a number copied, not worked out"
    checks.check_written_as_arithmetic("p", "p = (3 * 3 * 1 + 1) * 16", part="B", hint="h")


@pytest.mark.parametrize(
    "source",
    [
        "model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(1)])",
        "model = keras.Sequential([layers.InputLayer((3,)), layers.Dense(1)])",
        "model = keras.Sequential([layers.Dense(1, input_shape=(3,))])",
        "model = keras.Sequential([layers.Dense(1)])\nmodel.build((None, 3))",
    ],
)
def test_input_declared_accepts_every_documented_spelling(source):
    checks.check_input_declared(source, part="Part B", expected="keras.Input(shape=(3,))")


def test_input_declared_refuses_a_model_without_one():
    with pytest.raises(CheckFailure) as excinfo:
        checks.check_input_declared(
            "model = keras.Sequential([layers.Dense(1)])", part="Part B", expected="keras.Input"
        )
    assert first_line(excinfo) == "input shape: missing"


def test_the_same_problem_found_several_times_is_named_once_with_a_count():
    with pytest.raises(CheckFailure) as excinfo, checks.gather() as each:
        for _ in range(3):
            with each:
                raise CheckFailure("missing layer: MaxPooling2D")
    assert first_line(excinfo) == "3 problems: missing layer: MaxPooling2D (3 times)"
    assert len(excinfo.value.problems) == 3
