"""Checks about image classifiers: pixel scaling, callbacks, training history, augmentation.

Used by the MNIST lessons (04-06), in hidden graders and in self-check cells alike. Every
failure is a :class:`~course_lib.checks.CheckFailure` whose first line names the problem.
Graders never reuse the student's arrays to measure a model: :func:`model_inputs` turns
the grader's own raw MNIST images into whatever the model expects (``(28, 28)``,
``(784,)`` or ``(28, 28, 1)``; pixels divided by 255 unless the model starts with a
``Rescaling`` layer that does it itself).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from course_lib import checks, inspection
from course_lib.checks import CheckFailure

AUGMENTATION_LAYERS = (
    "RandomRotation",
    "RandomZoom",
    "RandomTranslation",
    "RandomFlip",
    "RandomContrast",
    "RandomBrightness",
    "RandomCrop",
    "RandomShear",
)
PREPROCESSING_LAYERS = ("Rescaling", "Reshape", "Normalization")


# --- pixels -----------------------------------------------------------------------------------


def check_pixels_scaled(name: str, value, raw) -> np.ndarray:
    """``value`` is ``raw`` (uint8 images) divided by 255, as float32, in an accepted shape.

    Accepted shapes: the images' own ``(n, 28, 28)``, flattened ``(n, 784)`` or with a
    channel axis ``(n, 28, 28, 1)``.
    """
    __tracebackhide__ = True
    raw = np.asarray(raw)
    try:
        array = np.asarray(value)
    except Exception:
        raise CheckFailure(f"`{name}`: not an array", found=type(value).__name__) from None
    n = raw.shape[0]
    pixels = int(np.prod(raw.shape[1:]))
    accepted = {raw.shape, (n, pixels), (*raw.shape, 1)}
    if array.shape not in accepted or array.dtype.kind not in "fiu":
        raise CheckFailure(
            f"`{name}`: wrong shape",
            expected=f"one image per row: {raw.shape} (or flattened ({n}, {pixels}))",
            found=f"{array.shape}",
            hint="scale the images element by element; keep one row per image",
        )
    flat = array.reshape(n, pixels).astype("float64")
    if not np.all(np.isfinite(flat)):
        raise CheckFailure(f"`{name}`: contains NaN or infinite values")
    low, high = float(flat.min()), float(flat.max())
    if high > 1.0 + 1e-6 or low < -1e-6:
        raise CheckFailure(
            f"`{name}`: pixels not scaled to [0, 1]",
            expected="values from 0.0 to 1.0 (min-max scaling: divide by 255)",
            found=f"values from {low:.3g} to {high:.3g}",
            hint="raw pixels run from 0 to 255; large inputs make the first layer's outputs huge "
            "and training slow and unstable",
        )
    expected = raw.reshape(n, pixels).astype("float64") / 255.0
    if float(np.abs(flat - expected).max()) > 1e-5:
        raise CheckFailure(
            f"`{name}`: not min-max scaled",
            expected="x / 255.0 for every pixel (the pixels' minimum is 0 and maximum 255)",
            found=f"values from {low:.3g} to {high:.3g} that are not the pixels divided by 255",
            hint="min-max scaling maps 0 → 0 and 255 → 1; do not standardise or clip",
        )
    if array.dtype != np.float32:
        raise CheckFailure(
            f"`{name}`: wrong dtype",
            expected="float32 (what Keras computes in)",
            found=str(array.dtype),
            hint='add .astype("float32"): float64 doubles the memory for no gain',
        )
    return array


def has_layer(model, kind: str) -> bool:
    return any(type(layer).__name__ == kind for layer in inspection.flat_layers(model))


def model_inputs(model, images) -> np.ndarray:
    """The grader's raw ``(n, 28, 28)`` uint8 images, shaped and scaled for ``model``."""
    images = np.asarray(images)
    shape = inspection.input_shape(model)
    x = images.astype("float32")
    if not has_layer(model, "Rescaling"):
        x = x / 255.0
    if shape is None or any(s is None for s in shape):
        return x
    if int(np.prod(shape)) != int(np.prod(images.shape[1:])):
        raise CheckFailure(
            "model input: wrong shape",
            expected=f"an input of {int(np.prod(images.shape[1:]))} pixels, "
            "e.g. keras.Input(shape=(28, 28))",
            found=f"keras.Input(shape={shape})",
        )
    return x.reshape((len(images), *shape))


def predict(model, x, *, batch_size: int = 1000) -> np.ndarray:
    """Class probabilities, or a CheckFailure saying why the model could not predict."""
    try:
        return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype="float64")
    except Exception as exc:
        raise CheckFailure(
            "the model cannot predict on the test images",
            expected=f"input of shape (None, {', '.join(str(s) for s in x.shape[1:])})",
            found=f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}",
        ) from None


def accuracy(model, images, labels) -> float:
    """Fraction of ``images`` (raw grader images) the model labels correctly."""
    probabilities = predict(model, model_inputs(model, images))
    if probabilities.ndim != 2 or probabilities.shape[1] != 10:
        raise CheckFailure(
            "test accuracy: wrong output shape",
            expected="10 class probabilities per image: (None, 10)",
            found=f"{probabilities.shape[1:]} per image",
        )
    return float((probabilities.argmax(axis=1) == np.asarray(labels)).mean())


# --- layers -----------------------------------------------------------------------------------


def core_records(model) -> list[inspection.LayerRecord]:
    """Layer records without augmentation and input-preprocessing layers (nothing learned)."""
    records = [
        r
        for r in inspection.layer_records(model)
        if r.type not in AUGMENTATION_LAYERS + PREPROCESSING_LAYERS
    ]
    # conv → BN → Activation("relu") is the same block as conv(relu) → BN: move the activation
    # folded into the BatchNormalization back to the convolution before it.
    fixed: list[inspection.LayerRecord] = []
    for record in records:
        if (
            record.type == "BatchNormalization"
            and record.activation not in (None, "linear")
            and fixed
            and fixed[-1].type == "Conv2D"
            and fixed[-1].activation in (None, "linear")
        ):
            fixed[-1] = replace(fixed[-1], activation=record.activation)
            record = replace(record, activation=None)
        fixed.append(record)
    return fixed


def check_records(found, expected, *, hints: dict[str, str] | None = None) -> None:
    """``found`` records match ``expected`` (``None`` = any); first difference reported."""
    __tracebackhide__ = True
    hints = hints or {}
    checks.raise_first_difference(inspection.diff_layers(expected, found), hints)


def check_softmax_output(records, n_classes: int = 10) -> None:
    __tracebackhide__ = True
    if not records or records[-1].type != "Dense":
        raise CheckFailure(
            "output layer: not a Dense layer",
            expected=f'Dense(units={n_classes}, activation="softmax")',
            found=records[-1].describe() if records else "(no layers)",
        )
    last = records[-1]
    if last.units != n_classes:
        raise CheckFailure(
            "output layer: wrong units",
            expected=f'Dense(units={n_classes}, activation="softmax")',
            found=last.describe(),
            hint=f"one output per class: {n_classes} digits",
        )
    if last.activation != "softmax":
        raise CheckFailure(
            "output layer: wrong activation",
            expected=f'Dense(units={n_classes}, activation="softmax")',
            found=last.describe(),
            hint="softmax turns the 10 scores into probabilities that sum to 1, which "
            "sparse_categorical_crossentropy expects",
        )


def check_mlp(model, *, n_classes: int = 10) -> None:
    """Flatten, then one or more ReLU Dense layers (Dropout allowed), then Dense(10, softmax)."""
    __tracebackhide__ = True
    records = core_records(model)
    shape = inspection.input_shape(model)
    if shape is None:
        raise CheckFailure(
            "input shape: missing",
            expected="keras.Input(shape=(28, 28))",
            found="no input shape (the model was never built)",
        )
    if len(shape) > 1 and (not records or records[0].type != "Flatten"):
        raise CheckFailure(
            "layer 1: Flatten missing",
            expected="Flatten() right after the input: 28×28 images → 784 numbers",
            found=records[0].describe() if records else "(no layers)",
            hint="a Dense layer works on a vector; applied to a 28×28 image it would act "
            "on every row separately",
        )
    check_softmax_output(records, n_classes)
    hidden = [r for r in records[:-1] if r.type not in ("Flatten", "Dropout")]
    if not hidden:
        raise CheckFailure(
            "hidden layer: missing",
            expected='at least one Dense(units, activation="relu") between Flatten and the output',
            found="the input goes straight to the output layer",
            hint="without a hidden layer the model is a linear classifier (about 92 % on MNIST)",
        )
    for index, record in enumerate(hidden, start=1):
        if record.type != "Dense":
            raise CheckFailure(
                f"hidden layer {index}: wrong layer type",
                expected='Dense(units, activation="relu")',
                found=record.describe(),
            )
        if record.activation != "relu":
            raise CheckFailure(
                f"hidden layer {index}: wrong activation",
                expected=f'Dense(units={record.units}, activation="relu")',
                found=record.describe(),
                hint="without a non-linear activation stacked Dense layers collapse into one "
                "linear map",
            )
        if not 32 <= (record.units or 0) <= 1024:
            raise CheckFailure(
                f"hidden layer {index}: unusual width",
                expected="between 32 and 1024 units",
                found=record.describe(),
            )


# --- callbacks and history ---------------------------------------------------------------------


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def callback_record(records, name: str, kind: str = "EarlyStopping") -> dict:
    """The one ``kind`` callback in a handed-in callbacks record (``{key: {class, config}}``)."""
    __tracebackhide__ = True
    items = list((records or {}).values())
    found = [item for item in items if isinstance(item, dict) and item.get("class") == kind]
    if not found:
        classes = (
            ", ".join(str(item.get("class")) for item in items if isinstance(item, dict))
            or "nothing"
        )
        raise CheckFailure(
            f"`{name}`: not an {kind} callback",
            expected=f"keras.callbacks.{kind}(...)",
            found=classes,
        )
    return found[0].get("config") or {}


def check_early_stopping(
    config: dict,
    *,
    monitor: str = "val_loss",
    patience: tuple[int, int] = (1, 10),
    min_delta: tuple[float, float] = (0.0, 0.01),
) -> None:
    """EarlyStopping settings: the monitored value, patience and min_delta ranges, restore."""
    __tracebackhide__ = True
    if config.get("monitor") != monitor:
        raise CheckFailure(
            "EarlyStopping: wrong monitor",
            expected=f'monitor="{monitor}"',
            found=f'monitor="{config.get("monitor")}"',
            hint="stop when the loss on the validation data stops improving: the training loss "
            "keeps falling while the model starts to overfit",
        )
    wait = _number(config.get("patience"))
    if not patience[0] <= wait <= patience[1]:
        raise CheckFailure(
            "EarlyStopping: patience out of range",
            expected=f"patience between {patience[0]} and {patience[1]} epochs",
            found=f"patience={config.get('patience')}",
            hint="patience is how many epochs without improvement to wait before stopping",
        )
    delta = abs(_number(config.get("min_delta")))
    if not min_delta[0] <= delta <= min_delta[1]:
        raise CheckFailure(
            "EarlyStopping: min_delta out of range",
            expected=f"min_delta between {min_delta[0]:g} and {min_delta[1]:g}",
            found=f"min_delta={config.get('min_delta')}",
            hint="min_delta is the smallest decrease of the validation loss that counts as "
            "an improvement",
        )
    if config.get("restore_best_weights") is not True:
        raise CheckFailure(
            "EarlyStopping: best weights not restored",
            expected="restore_best_weights=True",
            found=f"restore_best_weights={config.get('restore_best_weights')}",
            hint="without it the model keeps the weights of the last epoch, `patience` epochs "
            "past the best one",
        )


def history_dict(record) -> tuple[dict, dict]:
    """``(history, params)`` from a handed-in history record."""
    if not isinstance(record, dict):
        return {}, {}
    return record.get("history") or {}, record.get("params") or {}


def check_validation_split_used(history: dict) -> None:
    __tracebackhide__ = True
    if not history.get("val_loss"):
        raise CheckFailure(
            "training: no validation data",
            expected="fit(..., validation_split=0.2): val_loss recorded every epoch",
            found="history keys: " + ", ".join(sorted(history)) if history else "an empty history",
            hint="EarlyStopping watches val_loss; without validation data it has nothing to watch",
        )


def check_stopped_early(history: dict, params: dict, config: dict, *, min_epochs: int = 20) -> None:
    """Training was given a large epoch budget and the callback, not the budget, ended it."""
    __tracebackhide__ = True
    ran = len(history.get("loss") or [])
    budget = int(
        _number(params.get("epochs")) if math.isfinite(_number(params.get("epochs"))) else 0
    )
    if budget < min_epochs:
        raise CheckFailure(
            "training: epoch budget too small for early stopping",
            expected=f"epochs=<large> (at least {min_epochs}); EarlyStopping decides when to stop",
            found=f"epochs={budget}",
        )
    if ran >= budget or int(_number(config.get("stopped_epoch")) or 0) <= 0:
        raise CheckFailure(
            "training: did not stop early",
            expected="fit(..., callbacks=[early_stopping]) stopping before the epoch budget",
            found=f"{ran} of {budget} epochs run",
            hint="pass the callback in fit's callbacks list",
        )


def check_best_weights_restored(
    model_val_loss: float, history: dict, *, tolerance: float = 0.01
) -> None:
    """The model's own validation loss is the best epoch's, not the last epoch's."""
    __tracebackhide__ = True
    losses = [_number(v) for v in history.get("val_loss") or []]
    best, last = min(losses), losses[-1]
    if abs(model_val_loss - best) <= tolerance * max(best, 1e-3) or last - best <= 1e-4:
        return
    raise CheckFailure(
        "training: the model does not have the best epoch's weights",
        expected=f"validation loss {best:.4f} (the best epoch)",
        found=f"validation loss {model_val_loss:.4f} (the last epoch had {last:.4f})",
        hint="EarlyStopping(restore_best_weights=True) and the same validation_split=0.2 of the "
        "scaled training images",
    )


# --- augmentation ------------------------------------------------------------------------------


def _factor_range(value) -> float:
    """The largest magnitude in a factor given as a number or a (low, high) pair."""
    if isinstance(value, list | tuple):
        return max((abs(_number(v)) for v in value), default=0.0)
    return abs(_number(value))


def augmentation_layers(model) -> list:
    return [
        layer
        for layer in inspection.flat_layers(model)
        if type(layer).__name__ in AUGMENTATION_LAYERS
    ]


def check_augmentation(
    model,
    *,
    required: tuple[str, ...] = ("RandomRotation", "RandomZoom", "RandomTranslation"),
    max_rotation: float = 0.1,
    max_zoom: float = 0.3,
    max_translation: float = 0.3,
) -> None:
    """The model starts with sensible digit augmentations, and no flips."""
    __tracebackhide__ = True
    layers = augmentation_layers(model)
    kinds = [type(layer).__name__ for layer in layers]
    if "RandomFlip" in kinds:
        flip = next(layer for layer in layers if type(layer).__name__ == "RandomFlip")
        raise CheckFailure(
            "augmentation: RandomFlip on digits",
            expected="rotations, zooms and shifts only",
            found=f'RandomFlip(mode="{flip.get_config().get("mode")}")',
            hint="a mirrored digit is not the same digit: a flipped 2 looks like a 5, a flipped 6 "
            "like a 9, and a flipped 7 is no digit at all; the model would learn from wrong labels",
        )
    missing = [kind for kind in required if kind not in kinds]
    if missing:
        raise CheckFailure(
            f"augmentation: {missing[0]} missing",
            expected=", ".join(required) + " inside the model",
            found=", ".join(kinds) or "no augmentation layer in the model",
            hint="put the augmentation layers in the model itself, right after keras.Input",
        )
    for layer in layers:
        config = layer.get_config()
        kind = type(layer).__name__
        if kind == "RandomRotation" and not 0 < _factor_range(config.get("factor")) <= max_rotation:
            raise CheckFailure(
                "augmentation: rotation range not sensible",
                expected=f"a factor above 0 and at most {max_rotation} of a full turn "
                f"({max_rotation * 360:.0f}°)",
                found=f"RandomRotation(factor={config.get('factor')})",
                hint="upright digits lean a little, never a lot: rotated half a turn, "
                "a 6 becomes a 9",
            )
        if kind == "RandomZoom" and not 0 < _factor_range(config.get("height_factor")) <= max_zoom:
            raise CheckFailure(
                "augmentation: zoom range not sensible",
                expected=f"a height_factor above 0 and at most {max_zoom}",
                found=f"RandomZoom(height_factor={config.get('height_factor')})",
                hint="zoom too far and the digit leaves the 28×28 frame",
            )
        if kind == "RandomTranslation":
            shift = max(
                _factor_range(config.get("height_factor")),
                _factor_range(config.get("width_factor")),
            )
            if not 0 < shift <= max_translation:
                raise CheckFailure(
                    "augmentation: translation range not sensible",
                    expected=f"height and width factors above 0 and at most {max_translation}",
                    found=f"RandomTranslation(height_factor={config.get('height_factor')}, "
                    f"width_factor={config.get('width_factor')})",
                    hint="shift too far and the digit leaves the 28×28 frame",
                )


def check_inference_deterministic(model, x) -> None:
    """Two predictions of the same images are identical: augmentation is off at inference."""
    __tracebackhide__ = True
    first = predict(model, x)
    second = predict(model, x)
    changed = float(np.abs(first - second).max(initial=0.0))
    if changed > 1e-6:
        raise CheckFailure(
            "inference: predictions change from one call to the next",
            expected="the same probabilities every time the same image is predicted",
            found=f"probabilities differing by up to {changed:.3g}",
            hint="augmentation must only run during training: never call the augmentation layers "
            "with training=True inside the model",
        )
