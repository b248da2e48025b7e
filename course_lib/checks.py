"""Checks that raise a structured, teaching failure.

The same functions serve the hidden graders and the ungraded self-check cells in
student notebooks. A failed check raises :class:`CheckFailure`, whose text starts
with a one-line summary, then says what was expected, what was found and a hint::

    01_regression › output layer: wrong activation
        expected: Dense(units=1, activation="linear")
        found:    Dense(units=1, activation="relu")   (layer 1 of 1)
        hint:     a regression output must be able to take any real value
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from contextlib import contextmanager

import numpy as np

from course_lib import inspection


class CheckFailure(AssertionError):
    """A check that did not hold: what, expected, found, and a hint."""

    def __init__(
        self,
        what: str,
        expected: str | None = None,
        found: str | None = None,
        hint: str | None = None,
        *,
        context: str | None = None,
    ) -> None:
        self.what = what
        self.expected = expected
        self.found = found
        self.hint = hint
        self.context = context
        super().__init__(self.render())

    @property
    def summary(self) -> str:
        """The first line: where and what went wrong."""
        return f"{self.context} › {self.what}" if self.context else self.what

    def render(self) -> str:
        lines = [self.summary]
        for label, text in (
            ("expected", self.expected),
            ("found", self.found),
            ("hint", self.hint),
        ):
            if text:
                first, *rest = str(text).splitlines()
                lines.append(f"    {label + ':':<10}{first}")
                lines.extend(f"    {'':<10}{line}" for line in rest)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for a failed check: the message alone, no traceback."""
        return self.render().splitlines()


def not_implemented(name: str, hint: str | None = None) -> CheckFailure:
    """The failure for an answer the student has not written yet."""
    return CheckFailure(
        f"not implemented yet: `{name}` is not defined",
        hint=hint or "complete the cell that defines it, then run the notebook from the top",
    )


def _fmt_layers(records: Sequence[inspection.LayerRecord]) -> str:
    return "\n".join(record.describe() for record in records) or "(no layers)"


def check_layers(
    model,
    expected: Sequence[inspection.LayerRecord],
    *,
    hints: dict[str, str] | None = None,
) -> None:
    """The model's layers equal ``expected`` (aligned, every difference reported).

    ``hints`` maps a difference kind (``"activation"``, ``"units"``, ``"type"``,
    ``"input_shape"``, ``"missing"``, ``"extra"``) to a teaching sentence.
    """
    __tracebackhide__ = True
    found = inspection.layer_records(model)
    found_shape = inspection.input_shape(model)
    diffs = inspection.diff_layers(expected, found)
    hints = hints or {}
    expected_shape = expected[0].input_shape if expected else None
    if expected_shape is not None and found_shape != expected_shape:
        raise CheckFailure(
            "input shape: " + ("missing" if found_shape is None else "wrong"),
            expected=f"keras.Input(shape={expected_shape})",
            found="no input shape (the model was never built)"
            if found_shape is None
            else f"keras.Input(shape={found_shape})",
            hint=hints.get("input_shape", "start the model with keras.Input(shape=...)"),
        )
    raise_first_difference(diffs, hints)


def raise_first_difference(diffs: Sequence[inspection.LayerDiff], hints: dict[str, str]) -> None:
    """Raise a CheckFailure for the first layer difference, counting the others; none: return."""
    __tracebackhide__ = True
    if not diffs:
        return
    first = diffs[0]
    extra = f"\n(+{len(diffs) - 1} more difference(s))" if len(diffs) > 1 else ""
    raise CheckFailure(
        first.summary,
        expected=first.expected + extra if first.expected else None,
        found=first.found,
        hint=hints.get(first.kind, first.default_hint),
    )


def check_param_count(model, expected: int, *, hint: str | None = None) -> None:
    """The model has exactly ``expected`` parameters (counted by the grader)."""
    __tracebackhide__ = True
    found = inspection.count_params(model)
    if found != expected:
        raise CheckFailure(
            "parameter count: wrong",
            expected=f"{expected:,} parameters",
            found=f"{found:,} parameters",
            hint=hint or "a Dense layer has (inputs × units) weights plus one bias per unit",
        )


def check_answer_int(name: str, answer, expected: int, *, hint: str | None = None) -> None:
    """A whole-number answer written by the student equals ``expected``."""
    __tracebackhide__ = True
    if isinstance(answer, bool) or not isinstance(answer, int | np.integer):
        raise CheckFailure(
            f"`{name}`: not a whole number",
            expected="an int",
            found=f"{type(answer).__name__} {answer!r}",
        )
    if int(answer) != expected:
        raise CheckFailure(
            f"`{name}`: wrong value",
            expected=f"{expected:,}" if hint is None else None,
            found=f"{int(answer):,}",
            hint=hint,
        )


def check_compile(
    model,
    *,
    loss: str | None = None,
    optimizer: str | None = None,
    metrics: Iterable[str] = (),
    hints: dict[str, str] | None = None,
) -> None:
    """Compile settings match, accepting equivalent spellings and objects."""
    __tracebackhide__ = True
    hints = hints or {}
    settings = inspection.compile_settings(model)
    if settings is None:
        raise CheckFailure(
            "compile settings: the model was never compiled",
            expected="model.compile(loss=..., optimizer=..., metrics=[...])",
            hint="call compile before fit",
        )
    if loss is not None and settings.loss != inspection.normalise_loss(loss):
        raise CheckFailure(
            "compile settings: wrong loss",
            expected=f'loss="{inspection.normalise_loss(loss)}"',
            found=f'loss="{settings.loss}"',
            hint=hints.get("loss"),
        )
    if optimizer is not None and settings.optimizer != inspection.normalise_optimizer(optimizer):
        raise CheckFailure(
            "compile settings: wrong optimizer",
            expected=f'optimizer="{inspection.normalise_optimizer(optimizer)}"',
            found=f'optimizer="{settings.optimizer}"',
            hint=hints.get("optimizer"),
        )
    wanted = [inspection.normalise_metric(m) for m in metrics]
    missing = [m for m in wanted if m not in settings.metrics]
    if missing:
        raise CheckFailure(
            "compile settings: missing metric " + ", ".join(f'"{m}"' for m in missing),
            expected="metrics=[" + ", ".join(f'"{m}"' for m in wanted) + "]",
            found="metrics=[" + ", ".join(f'"{m}"' for m in settings.metrics) + "]",
            hint=hints.get("metrics"),
        )


def check_array(
    name: str,
    value,
    *,
    shape: tuple[int | None, ...] | None = None,
    dtype: str | None = None,
) -> np.ndarray:
    """``value`` is an array of the stated shape (``None`` = any size) and dtype kind."""
    __tracebackhide__ = True
    try:
        array = np.asarray(value)
    except Exception as exc:
        raise CheckFailure(f"`{name}`: not an array", found=f"{type(value).__name__}") from exc
    if shape is not None and (
        array.ndim != len(shape)
        or any(
            want is not None and got != want for want, got in zip(shape, array.shape, strict=False)
        )
    ):
        raise CheckFailure(
            f"`{name}`: wrong shape",
            expected=_fmt_shape(shape),
            found=_fmt_shape(array.shape),
        )
    if dtype is not None and array.dtype != np.dtype(dtype):
        raise CheckFailure(
            f"`{name}`: wrong dtype", expected=str(np.dtype(dtype)), found=str(array.dtype)
        )
    return array


def _fmt_shape(shape: Sequence[int | None]) -> str:
    return (
        "("
        + ", ".join("any" if s is None else str(s) for s in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )


def check_standardised(
    name: str,
    value,
    raw,
    reference,
    *,
    leak_reference=None,
    tolerance: float = 0.02,
) -> None:
    """``value`` equals ``raw`` standardised with the statistics of ``reference``.

    ``leak_reference``: statistics that would reveal a leak (e.g. the test set's own).
    """
    __tracebackhide__ = True
    array = check_array(name, value, shape=np.shape(raw))
    raw = np.asarray(raw, dtype="float64")
    expected = _standardise(raw, np.asarray(reference, dtype="float64"))
    if _close(array, expected, tolerance):
        return
    if leak_reference is not None and _close(array, _standardise(raw, leak_reference), tolerance):
        raise CheckFailure(
            f"`{name}`: standardised with its own statistics",
            expected="mean and standard deviation computed on the training data only",
            found="the statistics of the data being transformed",
            hint="fit the scaler on the training set, then only transform the test set: "
            "the test set must stay unseen",
        )
    if _close(array, raw, tolerance):
        raise CheckFailure(
            f"`{name}`: not standardised",
            expected="every column with mean 0 and standard deviation 1 (training statistics)",
            found="the raw values",
            hint="subtract the training mean and divide by the training standard deviation",
        )
    raise CheckFailure(
        f"`{name}`: not standardised with the training statistics",
        expected="(x - train_mean) / train_std, column by column",
        found=f"column means {np.round(array.mean(axis=0)[:3], 2).tolist()}… "
        f"and standard deviations {np.round(array.std(axis=0)[:3], 2).tolist()}…",
        hint="use the training set's mean and standard deviation for every split",
    )


def _standardise(raw: np.ndarray, reference: np.ndarray) -> np.ndarray:
    mean = reference.mean(axis=0)
    std = reference.std(axis=0)
    return (raw - mean) / np.where(std == 0, 1.0, std)


def _close(a, b, tolerance: float) -> bool:
    a = np.asarray(a, dtype="float64")
    b = np.asarray(b, dtype="float64")
    if a.shape != b.shape or not np.all(np.isfinite(a)):
        return False
    scale = max(1.0, float(np.abs(b).max(initial=0.0)))
    return float(np.abs(a - b).max(initial=0.0)) <= tolerance * scale


def check_at_most(
    what: str, value: float, limit: float, *, unit: str = "", hint: str | None = None
) -> None:
    """A measured error is at most ``limit``."""
    __tracebackhide__ = True
    if not math.isfinite(value) or value > limit:
        raise CheckFailure(
            f"{what}: too high",
            expected=f"at most {limit:.3g}{unit}",
            found=f"{value:.3g}{unit}",
            hint=hint,
        )


def check_at_least(
    what: str, value: float, limit: float, *, unit: str = "", hint: str | None = None
) -> None:
    """A measured score is at least ``limit``."""
    __tracebackhide__ = True
    if not math.isfinite(value) or value < limit:
        raise CheckFailure(
            f"{what}: too low",
            expected=f"at least {limit:.4g}{unit}",
            found=f"{value:.4g}{unit}",
            hint=hint,
        )


# --- lessons 02/03 ---


@contextmanager
def about(label: str):
    """Prefix the summary of any failure raised inside with ``label`` (e.g. the model's name)."""
    __tracebackhide__ = True
    try:
        yield
    except CheckFailure as exc:
        context = f"{label} › {exc.context}" if exc.context else label
        raise CheckFailure(exc.what, exc.expected, exc.found, exc.hint, context=context) from None


def check_labels(
    name: str, value, n_rows: int, *, n_classes: int | None = None, hint: str | None = None
) -> np.ndarray:
    """Predicted class labels: integers of shape ``(n_rows,)``, in ``range(n_classes)`` if given."""
    __tracebackhide__ = True
    array = np.asarray(value)
    if array.shape != (n_rows,):
        raise CheckFailure(
            f"`{name}`: wrong shape",
            expected=f"one label per test row: {_fmt_shape((n_rows,))}",
            found=_fmt_shape(array.shape),
            hint=hint
            or "flatten the predictions (.ravel()) or take argmax(axis=1): one label per row",
        )
    if not np.issubdtype(array.dtype, np.integer):
        raise CheckFailure(
            f"`{name}`: not integer labels",
            expected="an integer array such as int64",
            found=f"dtype {array.dtype}",
            hint='labels are whole numbers: convert with .astype("int64") '
            "(probabilities must first be turned into labels)",
        )
    if n_classes is not None and array.size and (array.min() < 0 or array.max() >= n_classes):
        raise CheckFailure(
            f"`{name}`: labels out of range",
            expected=f"labels 0 … {n_classes - 1}",
            found=f"labels {int(array.min())} … {int(array.max())}",
        )
    return array


def check_optimizer(name: str, record, kind: str, **settings) -> None:
    """A handed-in optimizer record (``{"class": ..., "config": {...}}``) matches ``kind``.

    Every setting in ``settings`` must match too.

    Floats are compared with a relative tolerance (Keras stores learning rates as float32).
    """
    __tracebackhide__ = True
    if not isinstance(record, dict) or "class" not in record:
        raise CheckFailure(
            f"`{name}`: not an optimizer object",
            expected=f"keras.optimizers.{kind}(...)",
            found=f"{record!r}"[:80],
        )
    found_kind = str(record.get("class"))
    if inspection.normalise_optimizer(found_kind) != inspection.normalise_optimizer(kind):
        raise CheckFailure(
            f"`{name}`: wrong optimizer class",
            expected=f"keras.optimizers.{kind}",
            found=f"keras.optimizers.{found_kind}",
        )
    config = record.get("config") or {}
    for key, want in settings.items():
        got = config.get(key)
        if isinstance(want, bool) or want is None:
            same = bool(got) == bool(want)
        else:
            same = (
                isinstance(got, int | float)
                and not isinstance(got, bool)
                and math.isclose(float(got), float(want), rel_tol=1e-5, abs_tol=1e-9)
            )
        if not same:
            raise CheckFailure(
                f"`{name}`: wrong {key}",
                expected=f"{kind}({key}={want!r})",
                found=f"{kind}({key}={got!r})",
            )
