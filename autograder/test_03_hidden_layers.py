"""Hidden graders of lesson 03_hidden_layers: hidden layers on two moons, parameters, optimizers.

Each test is one grade cell (test id = grade_id). The graders reload the student's models
from the hand-in and measure them on the course's moons split they load themselves;
``dense_params`` is called by the grader's collection cell on probe inputs the notebook
never sees, and the optimizers are read back as their classes and configurations.
"""

import numpy as np
import pytest

from course_lib import checks, data, inspection, training_checks
from course_lib.grader import calibration
from course_lib.inspection import LayerRecord

LESSON = "03_hidden_layers"

HANDIN = {
    "linear_model": "model",
    "linear_history": "history",
    "hidden_model": "model",
    "hidden_history": "history",
    "dense_params": ["function", [[100, 10], [784, 128], [2, 16], [16, 1], [3, 7], [1, 1]]],
    "hidden_params": "value",
    "mlp_params": "value",
    "optimizers": "optimizers",
}

# Test accuracy on the moons split (250 points) of the reference solution (Adam 1e-2, 30 epochs,
# batch 32) over seeds: see autograder/calibration/03_hidden_layers.json. The hidden model may
# miss 6 more points than the worst seed; it must beat the straight line by at least half the
# smallest gap the seeds showed.
CALIBRATED = {
    "hidden_accuracy": calibration.Bound(
        "at_least", margin=6 / 250, step=0.01, why="six more misclassified test points of 250"
    ),
    "gain": calibration.Bound(
        "at_least",
        margin=0.5,
        relative=True,
        step=0.01,
        why="half the smallest gap between the hidden and the linear model",
    ),
}
LIMITS = calibration.thresholds(__file__, LESSON)

EPOCHS, BATCH_SIZE, VALIDATION_SPLIT, LEARNING_RATE = 30, 32, 0.2, 0.01

HIDDEN_LAYERS = [
    LayerRecord("Dense", units=16, activation="relu", input_shape=(2,)),
    LayerRecord("Dense", units=16, activation="relu"),
    LayerRecord("Dense", units=1, activation="sigmoid"),
]
LINEAR_LAYERS = [LayerRecord("Dense", units=1, activation="sigmoid", input_shape=(2,))]

HIDDEN_HINTS = {
    "activation": "hidden layers use relu; the output gives one probability with the sigmoid",
    "units": "the task asks for two hidden layers of 16 units, then one output unit",
    "missing": "the task asks for Dense(16, relu), Dense(16, relu), Dense(1, sigmoid), "
    "in this order",
    "extra": "the task asks for exactly two hidden layers",
    "type": "use Dense layers",
}

OPTIMIZERS = {
    "sgd": ("SGD", {"learning_rate": 0.1, "momentum": 0.0, "nesterov": False}),
    "momentum": ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": False}),
    "nesterov": ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    "adagrad": ("Adagrad", {"learning_rate": 0.1}),
    "rmsprop": ("RMSprop", {"learning_rate": 0.01}),
    "adam": ("Adam", {"learning_rate": 0.01}),
}

N_HIDDEN_PARAMS = (2 * 16 + 16) + (16 * 16 + 16) + (16 * 1 + 1)  # 337
N_MLP_PARAMS = (784 * 128 + 128) + (128 * 10 + 10)  # 101,770
PARAMS_HINT = "a Dense layer has n_in × n_units weights plus one bias per unit"


@pytest.fixture(scope="module")
def moons():
    return data.load_moons_split()


def _accuracy(name: str, model, split) -> float:
    try:
        probabilities = np.asarray(model.predict(split.X_test, verbose=0), dtype="float64")
    except Exception as exc:
        raise checks.CheckFailure(
            f"{name}: the model cannot predict on the test points",
            expected="input of shape (None, 2)",
            found=type(exc).__name__,
        ) from None
    if probabilities.size != len(split.y_test):
        raise checks.CheckFailure(
            f"{name}: wrong prediction shape",
            expected=f"one probability per point: ({len(split.y_test)}, 1)",
            found=str(probabilities.shape),
        )
    return float(((probabilities.reshape(-1) > 0.5) == split.y_test).mean())


def test_hidden_architecture(handin):
    model = handin.model("hidden_model")
    records = inspection.layer_records(model)
    with checks.gather() as each:
        linear = [
            (index, record)
            for index, record in enumerate(records[:-1])
            if record.type == "Dense" and record.activation in (None, "linear")
        ]
        for index, record in linear:
            with each:
                raise checks.CheckFailure(
                    f"hidden_model › layer {index + 1} (Dense): a linear hidden layer adds nothing",
                    expected=f'Dense(units={record.units}, activation="relu")',
                    found=f"{record.describe()}   (layer {index + 1} of {len(records)})",
                    hint="without an activation a Dense layer computes W·x + b; a linear "
                    "function of a linear function is still linear, so the stack collapses "
                    "into one linear layer and draws the same straight boundary as the "
                    'baseline. Add activation="relu"',
                )
        if not linear:
            with each, checks.about("hidden_model"):
                checks.check_layers(model, HIDDEN_LAYERS, hints=HIDDEN_HINTS)
        with each, checks.about("hidden_model"):
            checks.check_input_declared(
                handin.answer_source("part_b_answer"),
                part="Part B",
                expected="keras.Input(shape=(2,))",
            )


def test_compile_settings(handin):
    names = ("linear_model", "hidden_model")
    models = dict(zip(names, handin.models(*names), strict=True))
    with checks.gather() as each:
        for name in names:
            with each, checks.about(name):
                checks.check_compile(
                    models[name],
                    loss="binary_crossentropy",
                    optimizer="adam",
                    metrics=["accuracy"],
                    learning_rate=LEARNING_RATE,
                    hints={
                        "loss": "two moons, one sigmoid probability: binary_crossentropy",
                        "optimizer": "the task asks for keras.optimizers.Adam(learning_rate=0.01)",
                        "learning_rate": "the task asks for "
                        "keras.optimizers.Adam(learning_rate=0.01): ten times the default step",
                        "metrics": "report the accuracy: the fraction of points on the right moon",
                    },
                )


def measure_hidden_accuracy(handin) -> float:
    return _accuracy("hidden_model", handin.model("hidden_model"), data.load_moons_split())


def measure_gain(handin) -> float:
    """How much more accurate the hidden-layer model is than the straight-line baseline."""
    split = data.load_moons_split()
    linear = _accuracy("linear_model", handin.model("linear_model"), split)
    return measure_hidden_accuracy(handin) - linear


def _check_fit(handin, history: str, split) -> None:
    training_checks.check_fit(
        handin.history(history),
        n_rows=len(split.y_train),
        batch_size=BATCH_SIZE,
        epochs=EPOCHS,
        validation_split=VALIDATION_SPLIT,
        label=f"`{history}`",
    )


def test_quality(handin, moons):
    with checks.gather() as each:
        with each:
            checks.check_at_least(
                "hidden_model: test accuracy",
                measure_hidden_accuracy(handin),
                LIMITS["hidden_accuracy"],
                hint="two relu hidden layers trained with the fit call given should follow the "
                "moons' curve; check the activations, the loss and the optimizer",
            )
        with each:
            _check_fit(handin, "hidden_history", moons)


def test_baseline(handin, moons):
    linear = handin.model("linear_model")
    with checks.gather() as each:
        with each, checks.about("linear_model"):
            checks.check_input_declared(
                handin.answer_source("part_a_answer"),
                part="Part A",
                expected="keras.Input(shape=(2,))",
            )
        with each, checks.about("linear_model"):
            checks.check_layers(
                linear,
                LINEAR_LAYERS,
                hints={
                    "extra": "the baseline is logistic regression: no hidden layer, "
                    "only Dense(1, sigmoid)",
                    "activation": "the baseline outputs one probability with the sigmoid",
                },
            )
        with each:
            _check_fit(handin, "linear_history", moons)
        linear_accuracy = _accuracy("linear_model", linear, moons)
        hidden_accuracy = _accuracy("hidden_model", handin.model("hidden_model"), moons)
        if hidden_accuracy - linear_accuracy < LIMITS["gain"]:
            with each:
                raise checks.CheckFailure(
                    "baseline: the hidden-layer model does not beat the linear model",
                    expected=f"hidden_model at least {LIMITS['gain']:.0%} more accurate than "
                    "linear_model",
                    found=f"hidden_model {hidden_accuracy:.3f}, linear_model {linear_accuracy:.3f}",
                    hint="a straight line cannot separate the moons; only non-linear hidden "
                    "layers can bend the boundary",
                )


def test_parameter_count(handin):
    results = handin.value("dense_params")
    if not isinstance(results, list):
        raise checks.CheckFailure(
            "`dense_params`: not a function", hint="define def dense_params(n_in, n_units): ..."
        )
    source = handin.answer_source("part_c_answer")
    with checks.gather() as each:
        for entry in results:
            n_in, n_units = entry["args"]
            call = f"dense_params({n_in}, {n_units})"
            with each:
                if "error" in entry:
                    raise checks.CheckFailure(
                        f"`{call}` raised an error", found=entry["error"], hint=PARAMS_HINT
                    )
                checks.check_answer_int(
                    call, entry.get("result"), n_in * n_units + n_units, hint=PARAMS_HINT
                )
            if each.failures:
                break  # one wrong call says it: the other probes would repeat it
        function_works = not each.failures
        for name, value, hint in (
            (
                "hidden_params",
                N_HIDDEN_PARAMS,
                "add up dense_params(n_in, n_units) for the three layers 2 → 16 → 16 → 1: "
                "each layer's n_in is the previous layer's n_units",
            ),
            ("mlp_params", N_MLP_PARAMS, "two layers: 784 → 128, then 128 → 10"),
        ):
            with each:
                checks.check_counted_by_hand(name, source, part="Part C", hint=hint)
                checks.check_computed_with(name, source, "dense_params", part="Part C", hint=hint)
            if function_works:  # else its sums are wrong for the reason named above
                with each:
                    checks.check_answer_int(name, handin.value(name), value, hint=hint)


def test_optimizers(handin):
    records = handin.value("optimizers")
    if not isinstance(records, dict) or set(records) != set(OPTIMIZERS):
        raise checks.CheckFailure(
            "`optimizers`: wrong keys",
            expected="a dict with the keys " + ", ".join(f'"{k}"' for k in OPTIMIZERS),
            found=f"keys {sorted(records)}"
            if isinstance(records, dict)
            else type(records).__name__,
        )
    with checks.gather() as each:
        for key, (kind, settings) in OPTIMIZERS.items():
            with each:
                checks.check_optimizer(f'optimizers["{key}"]', records[key], kind, **settings)
