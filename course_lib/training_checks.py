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
from dataclasses import dataclass, replace

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
_BLOCK_ROWS = 1024


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
        array = None
    if array is None or array.dtype.kind not in "fiub" or array.ndim == 0:
        raise CheckFailure(
            f"`{name}`: not an array of pixel values",
            expected="a NumPy array of the scaled images",
            found="None" if value is None else type(value).__name__,
            hint="assign the result of the scaling (a function that prints returns None)",
        )
    n = raw.shape[0]
    pixels = int(np.prod(raw.shape[1:]))
    accepted = {raw.shape, (n, pixels), (*raw.shape, 1)}
    if array.shape not in accepted:
        raise CheckFailure(
            f"`{name}`: wrong shape",
            expected=f"one image per row: {raw.shape} (or flattened ({n}, {pixels}))",
            found=f"{array.shape}",
            hint="scale the images element by element; keep one row per image",
        )
    finite, low, high, off = _scaling_summary(array.reshape(n, pixels), raw.reshape(n, pixels))
    if not finite:
        raise CheckFailure(f"`{name}`: contains NaN or infinite values")
    if high > 1.0 + 1e-6 or low < -1e-6:
        raise CheckFailure(
            f"`{name}`: pixels not scaled to [0, 1]",
            expected="values from 0.0 to 1.0 (min-max scaling: divide by 255)",
            found=f"values from {low:.3g} to {high:.3g}",
            hint="raw pixels run from 0 to 255; large inputs make the first layer's outputs huge "
            "and training slow and unstable",
        )
    # a narrower float rounds every value: only its dtype is then the mistake
    tolerance = max(1e-5, float(np.finfo(array.dtype).eps)) if array.dtype.kind == "f" else 1e-5
    with checks.gather() as each:
        if off > tolerance:
            with each:
                raise CheckFailure(
                    f"`{name}`: not min-max scaled",
                    expected="x / 255.0 for every pixel (the pixels' minimum is 0 and maximum 255)",
                    found=f"values from {low:.3g} to {high:.3g} that are not the pixels divided "
                    "by 255",
                    hint="min-max scaling maps 0 → 0 and 255 → 1; do not standardise or clip",
                )
        if array.dtype != np.float32:
            with each:
                raise _pixel_dtype_failure(name, value, array)
    return array


def _pixel_dtype_failure(name: str, value, array: np.ndarray) -> CheckFailure:
    found = str(array.dtype)
    if not isinstance(value, np.ndarray):
        found = f"a {type(value).__name__} (NumPy makes {array.dtype} of it)"
    if array.dtype.kind == "f" and array.dtype.itemsize < 4:
        hint = f"{array.dtype} keeps about 3 digits: it rounds the pixel values; use float32"
    else:
        hint = 'convert, then divide: x.astype("float32") / 255.0 (float64 doubles the memory)'
    return CheckFailure(
        f"`{name}`: wrong dtype",
        expected="float32 (what Keras computes in)",
        found=found,
        hint=hint,
    )


def _scaling_summary(flat, raw_flat) -> tuple[bool, float, float, float]:
    """Whether all of ``flat`` is finite, its min and max, and its largest distance from
    ``raw_flat / 255``, in float64, a block of rows at a time in two reused buffers
    (60,000 images need no copies, and no fresh memory per block).
    """
    low, high, off = math.inf, -math.inf, 0.0
    rows = max(1, min(_BLOCK_ROWS, len(flat)))
    values = np.empty((rows, flat.shape[1]), dtype="float64")
    expected = np.empty_like(values)
    finite = np.empty(values.shape, dtype=bool)
    for start in range(0, len(flat), rows):
        count = len(flat[start : start + rows])
        block, wanted, ok = values[:count], expected[:count], finite[:count]
        np.copyto(block, flat[start : start + rows], casting="unsafe")
        if not np.isfinite(block, out=ok).all():
            return False, math.nan, math.nan, math.nan
        low, high = min(low, float(block.min())), max(high, float(block.max()))
        np.divide(raw_flat[start : start + rows], 255.0, out=wanted)
        np.subtract(block, wanted, out=wanted)
        off = max(off, float(np.abs(wanted, out=wanted).max()))
    return True, low, high, off


def check_pixel_statistics(
    name: str, stats, raw, *, shape: tuple[int, ...], rescaled_in_model: bool = False
) -> None:
    """A handed-in ``array_stats`` record describes ``raw`` / 255 as float32 of ``shape``.

    For arrays too large to hand in whole: their shape, dtype, range and mean say whether
    they were scaled and reshaped as asked. ``rescaled_in_model``: the model starts with a
    ``Rescaling`` layer that divides by 255 itself, so the raw pixel values are right too.
    """
    __tracebackhide__ = True
    if not isinstance(stats, dict) or "shape" not in stats:
        raise CheckFailure(f"`{name}`: not an array", found=type(stats).__name__)
    found_shape = tuple(stats.get("shape") or ())
    with checks.gather() as each:
        if found_shape != shape:
            with each:
                raise CheckFailure(
                    f"`{name}`: wrong shape",
                    expected=f"{shape}: .reshape(-1, 28, 28, 1) after scaling",
                    found=str(found_shape),
                )
        low, high, mean = (_number(stats.get(k)) for k in ("min", "max", "mean"))
        want = float(np.asarray(raw, dtype="float64").mean()) / 255.0
        if rescaled_in_model and math.isclose(mean, want * 255, rel_tol=1e-3) and high <= 255:
            want, high = mean, high / 255  # the model's Rescaling layer divides by 255
        if not (low >= -1e-6 and high <= 1 + 1e-6):
            with each:
                raise CheckFailure(
                    f"`{name}`: pixels not scaled to [0, 1]",
                    expected="values from 0.0 to 1.0: the pixels divided by 255",
                    found=f"values from {low:.3g} to {high:.3g}",
                    hint="raw pixels run from 0 to 255: divide by 255.0",
                )
        elif not math.isclose(mean, want, rel_tol=1e-3):
            with each:
                raise CheckFailure(
                    f"`{name}`: not the pixels divided by 255",
                    expected=f"mean pixel value {want:.4f} (x / 255.0)",
                    found=f"mean pixel value {mean:.4f}",
                    hint="min-max scaling maps 0 → 0 and 255 → 1; do not standardise or clip",
                )
        if stats.get("dtype") != "float32":
            with each:
                raise CheckFailure(
                    f"`{name}`: wrong dtype",
                    expected="float32 (what Keras computes in)",
                    found=str(stats.get("dtype")),
                    hint='convert, then divide: x.astype("float32") / 255.0',
                )


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


def _whole(value, default: int = 0) -> int:
    """A recorded count as an int; ``default`` when it is missing, not a number or infinite."""
    number = _number(value)
    return int(number) if math.isfinite(number) else default


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
    patience: int | tuple[int, int] = (1, 10),
    min_delta: float | tuple[float, float] = (0.0, 0.01),
) -> None:
    """EarlyStopping settings: monitor, patience and min_delta (a value or a range), restore.

    Every wrong setting is named.
    """
    __tracebackhide__ = True
    with checks.gather() as each:
        if config.get("monitor") != monitor:
            with each:
                raise CheckFailure(
                    "EarlyStopping: wrong monitor",
                    expected=f'monitor="{monitor}"',
                    found=f'monitor="{config.get("monitor")}"',
                    hint="stop when the loss on the validation data stops improving: the "
                    "training loss keeps falling while the model starts to overfit",
                )
        wait = _number(config.get("patience"))
        low, high = patience if isinstance(patience, tuple) else (patience, patience)
        if not low <= wait <= high:
            with each:
                raise CheckFailure(
                    "EarlyStopping: wrong patience"
                    if low == high
                    else "EarlyStopping: patience out of range",
                    expected=f"patience={low}"
                    if low == high
                    else f"patience between {low} and {high} epochs",
                    found=f"patience={checks.number(config.get('patience'))}",
                    hint="patience is how many epochs without improvement to wait before stopping",
                )
        delta = abs(_number(config.get("min_delta")))
        low, high = min_delta if isinstance(min_delta, tuple) else (min_delta, min_delta)
        if not (low <= delta <= high or math.isclose(delta, low, rel_tol=1e-5)):
            with each:
                raise CheckFailure(
                    "EarlyStopping: wrong min_delta"
                    if low == high
                    else "EarlyStopping: min_delta out of range",
                    expected=f"min_delta={low:g}"
                    if low == high
                    else f"min_delta between {low:g} and {high:g}",
                    found=f"min_delta={checks.number(config.get('min_delta'), 6)}",
                    hint="min_delta is the smallest decrease of the validation loss that counts "
                    "as an improvement",
                )
        if config.get("restore_best_weights") is not True:
            with each:
                raise CheckFailure(
                    "EarlyStopping: best weights not restored",
                    expected="restore_best_weights=True",
                    found=f"restore_best_weights={config.get('restore_best_weights')}",
                    hint="without it the model keeps the weights of the last epoch, `patience` "
                    "epochs past the best one",
                )


@dataclass(frozen=True)
class FitRecord:
    """What a handed-in ``History`` says about the ``fit`` call that made it.

    It is the student's own account (recorded in their kernel): graders use it to name a
    mistake, and measure the model itself to judge it.
    """

    name: str
    history: dict
    params: dict
    model: int | None = None
    """Identity of the model ``fit`` trained (compare with the hand-in manifest)."""

    @classmethod
    def from_record(cls, name: str, record) -> FitRecord:
        if not isinstance(record, dict):
            return cls(name, {}, {})
        history = record.get("history")
        params = record.get("params")
        return cls(
            name,
            history if isinstance(history, dict) else {},
            params if isinstance(params, dict) else {},
            record.get("model") if isinstance(record.get("model"), int) else None,
        )

    def values(self, key: str) -> list[float]:
        values = self.history.get(key)
        return [_number(v) for v in values] if isinstance(values, list) else []

    @property
    def epochs_run(self) -> int:
        return len(self.values("loss"))

    @property
    def epoch_budget(self) -> int | None:
        value = _number(self.params.get("epochs"))
        return int(value) if math.isfinite(value) else None

    @property
    def steps(self) -> int | None:
        value = _number(self.params.get("steps"))
        return int(value) if math.isfinite(value) else None


def history_dict(record) -> tuple[dict, dict]:
    """``(history, params)`` from a handed-in history record."""
    fit = FitRecord.from_record("history", record)
    return fit.history, fit.params


def check_fit(
    fit: FitRecord,
    *,
    n_rows: int,
    batch_size: int,
    epochs: int | None = None,
    min_epochs: int | None = None,
    validation_split: float | None = None,
    validation_data: bool = False,
    label: str = "training",
    call: str = "the fit call given",
) -> None:
    """The History comes from a ``fit`` with these settings on ``n_rows`` training rows.

    Its parameters give the epoch budget and the batches per epoch, which tell how many
    rows were trained on in batches of what size; validation losses tell whether data
    was held out (``validation_data``: passed separately). Every difference is named.
    """
    __tracebackhide__ = True
    if not fit.history:
        raise CheckFailure(
            f"{label}: `{fit.name}` is not the History returned by fit",
            expected=f"{fit.name} = model.fit(...) ({call})",
            found="no recorded losses",
        )
    train_rows = math.floor(n_rows * (1 - validation_split)) if validation_split else n_rows
    with checks.gather() as each:
        budget = fit.epoch_budget
        if epochs is not None and budget != epochs:
            with each:
                raise CheckFailure(
                    f"{label}: wrong number of epochs",
                    expected=f"epochs={epochs} ({call})",
                    found=f"epochs={budget}",
                    hint="train for the epochs the task states: the grader's thresholds "
                    "assume them",
                )
        if min_epochs is not None and (budget or 0) < min_epochs:
            with each:
                raise CheckFailure(
                    f"{label}: epoch budget too small for early stopping",
                    expected=f"epochs=<large> (at least {min_epochs}); EarlyStopping decides "
                    "when to stop",
                    found=f"epochs={budget}",
                )
        validated = bool(fit.values("val_loss"))
        if (validation_split or validation_data) and not validated:
            how = (
                f"validation_split={validation_split:g}"
                if validation_split
                else "validation_data=(x, y)"
            )
            with each:
                raise CheckFailure(
                    f"{label}: no validation data",
                    expected=f"fit(..., {how}): val_loss recorded every epoch",
                    found="history keys: " + ", ".join(sorted(fit.history)),
                    hint="the validation loss shows when the model starts to overfit; "
                    "EarlyStopping watches it",
                )
        expected_steps = math.ceil(train_rows / batch_size)
        if fit.steps is not None and fit.steps != expected_steps:
            with each:
                raise CheckFailure(
                    f"{label}: not the rows and batch size of {call}",
                    expected=f"{expected_steps} batches per epoch: {train_rows:,} rows "
                    + (f"(validation_split={validation_split:g}) " if validation_split else "")
                    + f"in batches of {batch_size}",
                    found=_explain_steps(fit.steps, n_rows, train_rows, batch_size, validated),
                    hint="keep the fit call's arguments as the task gives them",
                )


def _explain_steps(steps: int, n_rows: int, train_rows: int, batch_size: int, validated) -> str:
    """What a number of batches per epoch means for the rows trained on."""
    found = f"{steps} batches per epoch"
    if train_rows != n_rows and steps == math.ceil(n_rows / batch_size):
        held_out = "validation data passed separately" if validated else "no validation split"
        return f"{found}: all {n_rows:,} rows in batches of {batch_size} ({held_out})"
    if steps == math.ceil(train_rows / 32) and batch_size != 32:
        return f"{found}: {train_rows:,} rows in batches of 32 (Keras's default batch_size)"
    return f"{found} (about {math.ceil(train_rows / max(steps, 1))} rows per batch)"


def model_loss(model, x, y, *, batch_size: int = 1000) -> float:
    """The model's own loss on ``(x, y)``, computed as ``fit`` computes ``val_loss``."""
    try:
        result = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
        return float(result["loss"])
    except Exception:
        return math.nan


EPOCH_LOSS_TOLERANCE = 1e-3
"""Relative difference within which a recomputed loss is an epoch's recorded one."""


def closest_epoch(
    losses: list[float], value: float, *, tolerance: float = EPOCH_LOSS_TOLERANCE
) -> int | None:
    """The epoch whose loss equals ``value`` (relative ``tolerance``), or None."""
    if not losses or not math.isfinite(value):
        return None
    best = min(range(len(losses)), key=lambda i: abs(losses[i] - value))
    return best if abs(losses[best] - value) <= tolerance * max(abs(value), 1e-6) else None


def check_not_validated_on_test(fit: FitRecord, *, test_loss: float, held_out_loss: float) -> None:
    """The validation losses are not the model's losses on the test split.

    ``test_loss`` and ``held_out_loss``: the graded model's own loss (:func:`model_loss`) on
    the grader's test split and on the rows ``validation_split`` holds out. The model keeps
    the weights of one epoch, so its loss on the data fit validated on equals that epoch's
    ``val_loss``: whichever split reproduces it is the validation data.
    """
    __tracebackhide__ = True
    losses = fit.values("val_loss")
    on_test = closest_epoch(losses, test_loss)
    if on_test is None or closest_epoch(losses, held_out_loss) is not None:
        return
    raise CheckFailure(
        "training: validation data is the test set",
        expected="fit(..., validation_split=0.2): validation on the last 20 % of the training "
        "images",
        found=f"val_loss of epoch {on_test + 1} ({losses[on_test]:.4f}) is the model's loss on "
        f"the test images ({test_loss:.4f})",
        hint="early stopping picks the epoch with the best validation loss: validating on the "
        "test set selects the model on the test set, and its test accuracy no longer measures "
        "unseen data",
    )


def check_stopped_early(fit: FitRecord, config: dict) -> None:
    """The callback, not the epoch budget, ended training."""
    __tracebackhide__ = True
    budget = fit.epoch_budget or 0
    if fit.epochs_run >= budget or _whole(config.get("stopped_epoch")) <= 0:
        raise CheckFailure(
            "training: did not stop early",
            expected="fit(..., callbacks=[early_stopping]) stopping before the epoch budget",
            found=f"{fit.epochs_run} of {budget} epochs run",
            hint="pass the callback in fit's callbacks list",
        )


def check_best_weights_restored(model_val_loss: float, fit: FitRecord, config: dict) -> None:
    """The model's own validation loss is the best epoch's, not the last epoch's."""
    __tracebackhide__ = True
    losses = fit.values("val_loss")
    if not losses or not math.isfinite(model_val_loss):
        return
    best_epoch = _whole(config.get("best_epoch"), default=-1)
    if not 0 <= best_epoch < len(losses):
        best_epoch = min(range(len(losses)), key=losses.__getitem__)
    best, last = losses[best_epoch], losses[-1]
    # Recomputed losses equal fit's to float precision (closest_epoch's 0.1 %): the model has
    # the best epoch's weights unless it is nearer the last epoch, and the two are told apart.
    told_apart = abs(last - best) > EPOCH_LOSS_TOLERANCE * best
    if abs(model_val_loss - best) <= abs(model_val_loss - last) or not told_apart:
        return
    raise CheckFailure(
        "training: the model does not have the best epoch's weights",
        expected=f"validation loss {best:.4f} (epoch {best_epoch + 1}, the best one)",
        found=f"validation loss {model_val_loss:.4f} (the last epoch ended at {last:.4f})",
        hint="EarlyStopping(restore_best_weights=True) puts the best epoch's weights back when "
        "training stops",
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
