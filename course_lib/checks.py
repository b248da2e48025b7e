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

import ast
import math
import re
from collections.abc import Iterable, Sequence
from contextlib import contextmanager

import numpy as np

from course_lib import inspection


class CheckFailure(AssertionError):
    """A check that did not hold: what, expected, found, and a hint.

    A failure may gather several ``problems`` (see :func:`gather`): its summary then names
    each of them and its text lists them one by one.
    """

    def __init__(
        self,
        what: str,
        expected: str | None = None,
        found: str | None = None,
        hint: str | None = None,
        *,
        context: str | None = None,
        problems: Sequence[CheckFailure] = (),
        undefined: str | None = None,
    ) -> None:
        self.what = what
        self.expected = expected
        self.found = found
        self.hint = hint
        self.context = context
        self.problems = list(problems)
        self.undefined = undefined
        """The name whose absence this failure reports (``what`` says ```name` is not defined``)."""
        super().__init__(self.render())

    @classmethod
    def combine(cls, failures: Sequence[CheckFailure]) -> CheckFailure:
        """One failure naming every one of ``failures`` (the failure itself if only one).

        Names missing for the same reason are reported together: "`a` and `b` are not
        defined: …".
        """
        flat: list[CheckFailure] = []
        for problem in (p for failure in failures for p in (failure.problems or [failure])):
            same = next((f for f in flat if _same_absence(f, problem)), None)
            if same is None:
                flat.append(problem)
            else:
                flat[flat.index(same)] = _absent_together(same, problem)
        if len(flat) == 1:
            return flat[0]
        counts: dict[str, int] = {}
        for problem in flat:
            counts[problem.summary] = counts.get(problem.summary, 0) + 1
        what = f"{len(flat)} problems: " + "; ".join(
            summary + (f" ({n} times)" if n > 1 else "") for summary, n in counts.items()
        )
        return cls(what, problems=flat)

    def in_context(self, label: str) -> CheckFailure:
        """The same failure, its summary prefixed with ``label`` (e.g. the model's name)."""
        if self.problems:
            return CheckFailure.combine([p.in_context(label) for p in self.problems])
        context = f"{label} › {self.context}" if self.context else label
        return CheckFailure(
            self.what,
            self.expected,
            self.found,
            self.hint,
            context=context,
            undefined=self.undefined,
        )

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
        for index, problem in enumerate(self.problems, start=1):
            first, *rest = problem.render().splitlines()
            lines.append(f"  {index}) {first}")
            lines.extend(f"  {line}" for line in rest)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for a failed check: the message alone, no traceback."""
        return self.render().splitlines()


class Findings:
    """Several checks run together: every failure is reported, not only the first.

    ::

        with checks.gather() as each:
            with each:
                check_labels(...)
            with each:
                check_compile(...)

    Each inner ``with each:`` records a :class:`CheckFailure` and goes on; when the outer
    block ends, one failure naming all of them is raised (other exceptions pass through).
    """

    def __init__(self) -> None:
        self.failures: list[CheckFailure] = []
        self._depth = 0

    def __enter__(self) -> Findings:
        self._depth += 1
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        __tracebackhide__ = True
        self._depth -= 1
        if isinstance(error, CheckFailure):
            self.failures.append(error)
        elif error is not None:
            return False
        if self._depth == 0 and self.failures:
            failures, self.failures = self.failures, []
            raise CheckFailure.combine(failures) from None
        return True


def gather() -> Findings:
    """Run several checks and report every failure together: see :class:`Findings`."""
    return Findings()


def number(value, digits: int = 4) -> str:
    """A number as a student reads it: ``0.03`` for float32's ``0.029999999329447746``."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            return str(float(value))
        return f"{float(value):.{digits}g}"
    return repr(value)


def not_implemented(name: str, hint: str | None = None) -> CheckFailure:
    """The failure for an answer the student has not written yet."""
    return CheckFailure(
        f"not implemented yet: `{name}` is not defined",
        hint=hint or "complete the cell that defines it, then run the notebook from the top",
        undefined=name,
    )


def _names(failure: CheckFailure) -> list[str]:
    return re.findall(r"`([^`]+)`", failure.what.split(" is not defined")[0].split(" are not")[0])


def _same_absence(a: CheckFailure, b: CheckFailure) -> bool:
    """Two failures that report missing names for the same reason."""
    if not (a.undefined and b.undefined) or a.context != b.context:
        return False
    strip = re.compile(r"(`[^`]+`(, | and )?)+ (is|are) not defined")
    return strip.sub("…", a.what) == strip.sub("…", b.what)


def _absent_together(a: CheckFailure, b: CheckFailure) -> CheckFailure:
    names = [*_names(a), *(n for n in _names(b) if n not in _names(a))]
    listed = ", ".join(f"`{n}`" for n in names[:-1]) + f" and `{names[-1]}`"
    what = re.sub(
        r"(`[^`]+`(, | and )?)+ (is|are) not defined", f"{listed} are not defined", a.what
    )
    return CheckFailure(what, a.expected, a.found, a.hint, context=a.context, undefined=names[0])


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
    """Raise one CheckFailure naming every layer difference (the first one first); none: return."""
    __tracebackhide__ = True
    if not diffs:
        return
    raise CheckFailure.combine(
        [
            CheckFailure(
                diff.summary,
                expected=diff.expected or None,
                found=diff.found,
                hint=hints.get(diff.kind, diff.default_hint),
            )
            for diff in diffs
        ]
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
    """A whole-number answer written by the student equals ``expected``.

    ``name`` is a variable (``n_params``) or a call (``dense_params(100, 10)``).
    """
    __tracebackhide__ = True
    if answer is None:
        raise none_answer(name)
    if isinstance(answer, bool) or not isinstance(answer, int | np.integer):
        shown = number(answer, 6) if isinstance(answer, float) else repr(answer)[:80]
        raise CheckFailure(
            f"`{name}`: not a whole number",
            expected="an int",
            found=f"{type(answer).__name__} {shown}",
        )
    if int(answer) != expected:
        raise CheckFailure(
            f"`{name}`: wrong value",
            expected=f"{expected:,}" if hint is None else None,
            found=f"{int(answer):,}",
            hint=hint,
        )


def none_answer(name: str) -> CheckFailure:
    """The failure for an answer that is ``None``: a function that printed instead of returning."""
    if name.endswith(")"):
        return CheckFailure(
            f"`{name}` returned None: did you `print` instead of `return`?",
            expected="a function that ends with `return <the value>`",
            found="None (a function without `return` gives None; print only shows the value)",
        )
    return CheckFailure(
        f"`{name}` is None: did you `print` instead of `return`?",
        expected=f"`{name}` holding the value itself",
        found="None: the value of print(...), or of a function that prints instead of returning",
    )


def check_compile(
    model,
    *,
    loss: str | None = None,
    optimizer: str | None = None,
    metrics: Iterable[str] = (),
    learning_rate: float | dict | None = None,
    hints: dict[str, str] | None = None,
) -> None:
    """Compile settings match, accepting equivalent spellings and objects.

    Every wrong setting is named. A cross-entropy told ``from_logits=True`` on a model that
    already outputs probabilities (softmax or sigmoid) fails too. ``learning_rate``: the
    optimizer's step size, a number or a schedule (see :func:`check_learning_rate`).
    """
    __tracebackhide__ = True
    hints = hints or {}
    settings = inspection.compile_settings(model)
    if settings is None:
        raise CheckFailure(
            "compile settings: the model was never compiled",
            expected="model.compile(loss=..., optimizer=..., metrics=[...])",
            hint="call compile before fit",
        )
    with gather() as each:
        if loss is not None and settings.loss != inspection.normalise_loss(loss):
            with each:
                raise CheckFailure(
                    "compile settings: wrong loss",
                    expected=f'loss="{inspection.normalise_loss(loss)}"',
                    found=f'loss="{settings.loss}"',
                    hint=hints.get("loss"),
                )
        with each:
            check_loss_takes_probabilities(model, settings)
        if optimizer is not None and settings.optimizer != inspection.normalise_optimizer(
            optimizer
        ):
            with each:
                raise CheckFailure(
                    "compile settings: wrong optimizer",
                    expected=f'optimizer="{inspection.normalise_optimizer(optimizer)}"',
                    found=f'optimizer="{settings.optimizer}"',
                    hint=hints.get("optimizer"),
                )
        elif learning_rate is not None:
            with each:
                check_learning_rate(settings, learning_rate, hint=hints.get("learning_rate"))
        wanted = [inspection.normalise_metric(m) for m in metrics]
        missing = [m for m in wanted if m not in settings.metrics]
        if missing:
            with each:
                raise CheckFailure(
                    "compile settings: missing metric " + ", ".join(f'"{m}"' for m in missing),
                    expected="metrics=[" + ", ".join(f'"{m}"' for m in wanted) + "]",
                    found="metrics=[" + ", ".join(f'"{m}"' for m in settings.metrics) + "]",
                    hint=hints.get("metrics"),
                )


def check_loss_takes_probabilities(model, settings: inspection.CompileSettings) -> None:
    """A cross-entropy is not told ``from_logits=True`` when the model outputs probabilities."""
    __tracebackhide__ = True
    if not settings.from_logits:
        return
    records = inspection.layer_records(model)
    activation = records[-1].activation if records else None
    if activation in ("softmax", "sigmoid"):
        raise CheckFailure(
            f"compile settings: from_logits=True on a {activation} output",
            expected=f'the loss as a string, loss="{settings.loss}" '
            "(or its class with from_logits=False, the default)",
            found=f"{inspection.loss_class_name(settings.loss)}(from_logits=True) after "
            f'activation="{activation}"',
            hint=f"from_logits=True means the outputs are raw scores, so the loss applies "
            f"{activation} to them again: your model's {activation} already gives "
            "probabilities, and training minimises the wrong quantity",
        )


def check_learning_rate(
    settings: inspection.CompileSettings, expected: float | dict, *, hint: str | None = None
) -> None:
    """The optimizer's learning rate is ``expected`` (float32 noise ignored).

    ``expected`` is a number, or a schedule: ``{"class_name": "ExponentialDecay",
    "initial_learning_rate": 0.003, ...}`` (every given setting must match).
    """
    __tracebackhide__ = True
    found = settings.learning_rate
    if isinstance(expected, dict):
        wanted = _schedule_text(expected)
        same = isinstance(found, dict) and found.get("class_name") == expected["class_name"]
        config = found.get("config", {}) if isinstance(found, dict) else {}
        for key, want in expected.items():
            if key != "class_name" and same:
                got = config.get(key)
                same = isinstance(got, int | float) and math.isclose(got, want, rel_tol=1e-5)
    else:
        wanted = f"learning_rate={number(expected, 6)}"
        same = isinstance(found, int | float) and math.isclose(found, expected, rel_tol=1e-5)
    if same:
        return
    if isinstance(found, dict):
        shown = _schedule_text({"class_name": found.get("class_name"), **found.get("config", {})})
    else:
        shown = f"learning_rate={number(found, 6)}"
    raise CheckFailure(
        "compile settings: wrong learning rate",
        expected=wanted,
        found=shown,
        hint=hint or f"pass the optimizer the task gives, e.g. keras.optimizers.Adam({wanted})",
    )


def _schedule_text(schedule: dict) -> str:
    """``ExponentialDecay(initial_learning_rate=0.003, decay_rate=0.5)`` (name left out)."""
    settings = ", ".join(
        f"{key}={_setting(value)}"
        for key, value in schedule.items()
        if key not in ("class_name", "name")
    )
    return f"{schedule.get('class_name')}({settings})"


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
            expected=f"at most {number(limit, 3)}{unit}",
            found=f"{number(value, 3)}{unit}",
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
            expected=f"at least {number(limit)}{unit}",
            found=f"{number(value)}{unit}",
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
        raise exc.in_context(label) from None


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

    Every setting in ``settings`` must match too; every wrong one is named.
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
    wrong = []
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
            wrong.append(key)
    if wrong:
        shown = {key: config.get(key) for key in wrong}
        raise CheckFailure(
            f"`{name}`: wrong {', '.join(wrong)}",
            expected=f"{kind}(" + ", ".join(f"{k}={_setting(settings[k])}" for k in wrong) + ")",
            found=f"{found_kind}("
            + ", ".join(f"{k}={_setting(v)}" for k, v in shown.items())
            + ")",
        )


def _setting(value) -> str:
    """A configuration value as it is written in code."""
    if isinstance(value, float):
        return number(value, 6)
    if isinstance(value, dict):
        return f"{value.get('class_name', 'a schedule')}(...)"
    return repr(value)


# --- answers that must be worked out by hand ---------------------------------------------------

KERAS_COUNTING = ("count_params", "weights", "trainable_weights", "non_trainable_weights",
                  "get_weights", "trainable_variables", "variables")  # fmt: skip
"""What reads a parameter count off a model: a call or attribute of these names."""


def check_counted_by_hand(name: str, source: str, *, part: str, hint: str) -> None:
    """The answer cell ``source`` computes ``name`` without reading a count off a Keras model.

    Looks, in what computes ``name`` (its assignments, the variables and helper functions of
    the cell they use), for ``count_params()`` (``model.count_params()``,
    ``layer.count_params()``) and the weight lists (``.weights``, ``.trainable_weights``,
    ``.get_weights()``…). A cell that cannot be read (empty, not Python) is not judged here.
    """
    __tracebackhide__ = True
    tree = inspection.parse_answer(source)
    if tree is None:
        return
    used = [
        use
        for part in inspection.computation_of(tree, name)
        for use in inspection.uses_of(part, KERAS_COUNTING)
    ]
    if used:
        raise CheckFailure(
            f"`{name}`: counted by Keras, not by hand",
            expected="arithmetic on the layer sizes, worked out by hand",
            found=f"{used[0]} in the {part} answer",
            hint=f"{hint} (the grader looks for count_params(), .weights, .trainable_weights "
            "and get_weights(): none may be used)",
        )


def check_computed_with(name: str, source: str, function: str, *, part: str, hint: str) -> None:
    """``name`` is assigned from a call of ``function`` (directly, or through a helper).

    Accepted: ``x = f(a, b) + f(c, d)``, ``x = sum(f(a, b) for ...)``, ``x += f(a, b)`` in a
    loop, or a helper function of the cell that calls ``f``.
    """
    __tracebackhide__ = True
    tree = inspection.parse_answer(source)
    values = inspection.assigned_values(tree, name) if tree is not None else []
    if not values:
        return  # not assigned in this cell (or the cell cannot be read): judged by its value
    helpers = {function} | inspection.functions_calling(tree, function)
    calls = {call.split(".")[-1] for value in values for call in inspection.called_names(value)}
    if calls & helpers:
        return
    raise CheckFailure(
        f"`{name}`: not computed with {function}",
        expected=f"{name} = {function}(...) + {function}(...) + ..., one call per layer",
        found=f"{name} = {ast_text(values[-1])} in the {part} answer (no call of {function})",
        hint=f"{hint} (a call of {function} directly, in a sum or loop, or through a helper "
        "that calls it, is accepted)",
    )


def check_written_as_arithmetic(name: str, source: str, *, part: str, hint: str) -> None:
    """``name`` is worked out as arithmetic, not a number copied from ``summary()``."""
    __tracebackhide__ = True
    tree = inspection.parse_answer(source)
    values = inspection.assigned_values(tree, name) if tree is not None else []
    if not values:
        return
    value = values[-1]
    if isinstance(value, ast.Constant) and isinstance(value.value, int | float):
        raise CheckFailure(
            f"`{name}`: a number copied, not worked out",
            expected=f"the arithmetic that gives it, e.g. {hint}",
            found=f"{name} = {ast_text(value)} in the {part} answer",
            hint="write the computation (any arithmetic expression is accepted): "
            "it shows how the count arises, which is what this part practises",
        )


def ast_text(node, limit: int = 60) -> str:
    """Source text of an expression, shortened to ``limit`` characters."""
    text = ast.unparse(node)
    return text if len(text) <= limit else text[: limit - 1] + "…"


INPUT_SPELLINGS = ("Input", "InputLayer")
INPUT_ARGUMENTS = ("input_shape", "input_dim", "batch_input_shape")


def check_input_declared(source: str, *, part: str, expected: str) -> None:
    """The answer code gives its model an input shape before it sees data.

    Reads the code (a model reloaded after ``fit`` looks the same either way) and accepts
    ``keras.Input(...)``, ``layers.Input(...)``, ``InputLayer(...)``, an ``input_shape=``/
    ``input_dim=`` argument, or ``model.build(...)``. A cell that cannot be read is not
    judged here.
    """
    __tracebackhide__ = True
    tree = inspection.parse_answer(source)
    if tree is None:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = inspection.dotted_name(node.func).split(".")[-1]
            if name in (*INPUT_SPELLINGS, "build"):
                return
            if any(keyword.arg in INPUT_ARGUMENTS for keyword in node.keywords):
                return
    raise CheckFailure(
        "input shape: missing",
        expected=f"{expected} as the first item of the Sequential list",
        found=f"a model definition without an input shape in the {part} answer (the grader "
        "looks for keras.Input, layers.Input, InputLayer, input_shape= or model.build)",
        hint="without an input shape Keras cannot build the model or count its parameters "
        "until it first sees data",
    )
