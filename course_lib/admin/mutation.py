"""Mutation testing of the hidden graders: do they catch the mistakes students make?

``course check-graders LESSON|all`` takes the reference solution's answer cells, applies a
catalogue of realistic mistakes to them at the ``ast`` level (one mistake per *mutant*:
another activation, loss, optimizer or learning rate, ``from_logits=True``, a layer dropped
or added, other units, kernel size, padding or pooling, scaling removed or done with the
wrong statistics, the test split as validation data, callbacks dropped, one epoch,
probabilities for labels, a count read off Keras instead of worked out, a pretrained base
left unfrozen or with its top, one grey channel…), grades every mutant like a submission
through the classroom's batch path (a pool of workers, a warm server) and reports which
test killed it, with its message, or that it SURVIVED.

A mutant that is still a correct answer (e.g. the training set standardised "with its own
statistics", which are the training statistics) is listed in ``autograder/mutants/
<lesson>.toml`` under ``[equivalent]`` with the reason; ``[expect]`` pins the message a
mutant must be killed with; ``[settings] max_mutants`` caps how many are graded (spread
over the operators). Any other survivor is a blind spot of the graders.
"""

from __future__ import annotations

import ast
import copy
import fnmatch
import hashlib
import json
import re
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from course_lib.grader import cells
from course_lib.grader.course import Course
from course_lib.grader.report import Status
from course_lib.grader.settings import Limits

MIN_SCORE = 0.95
"""Killed share of the non-equivalent mutants a lesson needs."""

CONTROL = "solution"
"""The unmutated solution, graded alongside the mutants: it must keep full marks."""


@dataclass(frozen=True)
class Mutant:
    """One realistic mistake applied to one answer cell of the reference solution."""

    id: str
    cell: str
    operator: str
    description: str
    source: str


@dataclass
class MutantResult:
    """How the graders judged one mutant."""

    mutant: Mutant
    outcome: str
    """"killed", "survived", "equivalent", "unexpected" (killed with another message),
    "error" (the kit failed) or, for the control, "passed"/"failed"."""
    killers: list[tuple[str, str]] = field(default_factory=list)
    """(test id, first line of its message) of every test that failed."""
    note: str = ""
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0


@dataclass
class LessonReport:
    """Every mutant of one lesson and what the graders made of it."""

    lesson: str
    results: list[MutantResult] = field(default_factory=list)
    catalogue_size: int = 0
    stale: list[str] = field(default_factory=list)
    """Equivalent/expect entries of the lesson's file that name no mutant of the catalogue."""
    wall_seconds: float = 0.0

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def mutants(self) -> list[MutantResult]:
        return [r for r in self.results if r.mutant.id != CONTROL]

    @property
    def score(self) -> float:
        judged = [r for r in self.mutants if r.outcome != "equivalent"]
        killed = [r for r in judged if r.outcome == "killed"]
        return len(killed) / len(judged) if judged else 1.0

    @property
    def ok(self) -> bool:
        control = [r for r in self.results if r.mutant.id == CONTROL]
        return (
            all(r.outcome == "passed" for r in control)
            and not any(r.outcome in ("survived", "error", "unexpected") for r in self.mutants)
            and self.score >= MIN_SCORE
        )

    def as_json(self) -> dict:
        return {
            "lesson": self.lesson,
            "score": round(self.score, 4),
            "ok": self.ok,
            "catalogue_size": self.catalogue_size,
            "graded": len(self.mutants),
            "killed": self.count("killed"),
            "equivalent": self.count("equivalent"),
            "survived": self.count("survived"),
            "unexpected": self.count("unexpected"),
            "errors": self.count("error"),
            "stale_entries": self.stale,
            "wall_seconds": self.wall_seconds,
            "mutants": [
                {
                    "id": r.mutant.id,
                    "cell": r.mutant.cell,
                    "operator": r.mutant.operator,
                    "description": r.mutant.description,
                    "outcome": r.outcome,
                    "killed_by": [{"test": t, "message": m} for t, m in r.killers],
                    "note": r.note,
                    "score": r.score,
                    "max_score": r.max_score,
                }
                for r in self.results
            ],
        }

    def render(self) -> str:
        rows = []
        for r in self.results:
            if r.outcome in ("killed", "unexpected", "failed"):
                test, message = r.killers[0] if r.killers else ("?", "")
                more = f" (+{len(r.killers) - 1} more test(s))" if len(r.killers) > 1 else ""
                verdict = f"{test}: {message}{more}"
                if r.outcome != "killed":
                    verdict = f"{r.outcome.upper()}: {verdict} [{r.note}]"
            elif r.outcome == "equivalent":
                verdict = f"EQUIVALENT: {r.note}"
            elif r.outcome == "passed":
                verdict = "full marks (control)"
            else:
                verdict = r.outcome.upper() + (f": {r.note}" if r.note else "")
            rows.append((r.mutant.id, r.mutant.description, verdict))
        width = max([len(row[0]) for row in rows] + [6])
        lines = [
            f"{self.lesson}: {len(self.mutants)} of {self.catalogue_size} mutants graded — "
            f"{self.count('killed')} killed, {self.count('equivalent')} equivalent, "
            f"{self.count('survived')} survived"
            + (
                f", {self.count('unexpected')} killed by another test"
                if self.count("unexpected")
                else ""
            )
            + (f", {self.count('error')} errors" if self.count("error") else "")
            + f" — mutation score {self.score:.0%} in {self.wall_seconds:.0f} s",
        ]
        for mutant_id, description, verdict in rows:
            lines.append(f"  {mutant_id:<{width}}  {description}")
            lines.append(f"  {'':<{width}}    → {verdict}")
        lines.extend(f"  note: {entry}" for entry in self.stale)
        return "\n".join(lines)


# --- the catalogue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """Where an operator applies: a node (by its position in ``ast.walk``) and the change."""

    index: int
    change: Callable[[ast.AST], ast.AST | None]
    """Returns the node's replacement (None: remove it from the list that holds it)."""
    description: str
    slug: str


Operator = Callable[[ast.Module, "Names"], Iterator[Site]]


@dataclass(frozen=True)
class Names:
    """Variable names a mutant may use: assigned anywhere in the notebook, or before the cell."""

    assigned: frozenset[str]
    before: frozenset[str] = frozenset()


def _walk(tree: ast.AST) -> list[ast.AST]:
    return list(ast.walk(tree))


def _call_name(node: ast.AST) -> str:
    """The last part of a call's name: ``Dense`` for ``layers.Dense(...)``."""
    if not isinstance(node, ast.Call):
        return ""
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _keyword(node: ast.Call, name: str) -> ast.keyword | None:
    return next((k for k in node.keywords if k.arg == name), None)


def _keyword_constant(node: ast.Call, name: str):
    """The literal value of keyword ``name`` (None when absent or not a literal)."""
    keyword = _keyword(node, name)
    return keyword.value.value if keyword and isinstance(keyword.value, ast.Constant) else None


def _text(node: ast.AST, limit: int = 48) -> str:
    text = ast.unparse(node)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _subject(node: ast.AST) -> str:
    """The name an expression starts from (``x`` of ``x.astype("float32")``), for a site's id
    that does not change with the spelling; the expression's text if it has none."""
    inner = node
    while not isinstance(inner, ast.Name):
        if isinstance(inner, (ast.Attribute, ast.Subscript)):
            inner = inner.value
        elif isinstance(inner, ast.Call):
            inner = inner.func
        else:
            return _text(node, 20)
    return inner.id


def _const(value) -> ast.Constant:
    return ast.Constant(value)


def _with_keyword(name: str, value: ast.AST | None) -> Callable[[ast.AST], ast.AST]:
    """A change that sets (or, with None, removes) keyword ``name`` of a call."""

    def change(node: ast.AST) -> ast.AST:
        existing = next((k for k in node.keywords if k.arg == name), None)
        if value is None:
            node.keywords = [k for k in node.keywords if k.arg != name]
        elif existing is not None:
            existing.value = value
        else:
            node.keywords.append(ast.keyword(arg=name, value=value))
        return node

    return change


def _replace_with(new: ast.AST) -> Callable[[ast.AST], ast.AST]:
    return lambda node: copy.deepcopy(new)


def _remove(node: ast.AST) -> None:
    return None


LAYER_TYPES = {
    "Dense", "Conv2D", "BatchNormalization", "MaxPool2D", "MaxPooling2D", "Flatten",
    "Dropout", "Activation", "RandomRotation", "RandomZoom", "RandomTranslation",
}  # fmt: skip  # fmt: skip
ACTIVATION_SWAPS = {"relu": None, "sigmoid": "softmax", "softmax": "sigmoid"}
LOSS_SWAPS = {
    "mse": "mae",
    "mean_squared_error": "mae",
    "binary_crossentropy": "mse",
    "categorical_crossentropy": "sparse_categorical_crossentropy",
    "sparse_categorical_crossentropy": "categorical_crossentropy",
}
LOSS_CLASSES = {
    "binary_crossentropy": "BinaryCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
}
OPTIMIZER_SWAPS = {"adam": "sgd", "Adam": "SGD", "SGD": "Adam", "Adagrad": "SGD", "RMSprop": "SGD"}


def op_activation(tree: ast.Module, names: Names) -> Iterator[Site]:
    """Another activation: ReLU forgotten, sigmoid ↔ softmax, softmax forgotten."""
    for index, node in enumerate(_walk(tree)):
        if _call_name(node) != "Dense":
            continue
        value = _keyword_constant(node, "activation")
        if _keyword(node, "activation") is None:
            yield Site(
                index,
                _with_keyword("activation", _const("relu")),
                f'{_text(node)} → activation="relu"',
                f"{_text(node, 24)}+relu",
            )
            continue
        if value not in ACTIVATION_SWAPS:
            continue
        swap = ACTIVATION_SWAPS[value]
        yield Site(
            index,
            _with_keyword("activation", None if swap is None else _const(swap)),
            f"{_text(node)} → " + ("no activation" if swap is None else f'activation="{swap}"'),
            f"{value}→{swap or 'linear'}",
        )
        if value == "softmax":
            yield Site(
                index,
                _with_keyword("activation", None),
                f"{_text(node)} → no activation",
                "softmax→linear",
            )


def op_loss(tree: ast.Module, names: Names) -> Iterator[Site]:
    """Another loss: mse ↔ mae, cross-entropy for regression, sparse ↔ categorical."""
    for index, node in enumerate(_walk(tree)):
        if _call_name(node) != "compile":
            continue
        loss = _keyword_constant(node, "loss")
        if loss in LOSS_SWAPS:
            swap = LOSS_SWAPS[loss]
            yield Site(
                index,
                _with_keyword("loss", _const(swap)),
                f'loss="{loss}" → loss="{swap}"',
                f"{loss}→{swap}",
            )


def op_from_logits(tree: ast.Module, names: Names) -> Iterator[Site]:
    """The loss told ``from_logits=True`` although the model outputs probabilities."""
    for index, node in enumerate(_walk(tree)):
        if _call_name(node) != "compile":
            continue
        loss = _keyword_constant(node, "loss")
        if loss in LOSS_CLASSES:
            value = ast.parse(f"keras.losses.{LOSS_CLASSES[loss]}(from_logits=True)").body[0].value
            yield Site(
                index,
                _with_keyword("loss", value),
                f'loss="{loss}" → keras.losses.{LOSS_CLASSES[loss]}(from_logits=True)',
                loss,
            )


def op_optimizer(tree: ast.Module, names: Names) -> Iterator[Site]:
    """Another optimizer, string or object (its arguments kept)."""
    for index, node in enumerate(_walk(tree)):
        if isinstance(node, ast.keyword) and node.arg == "optimizer":
            value = node.value
            if isinstance(value, ast.Constant) and value.value in OPTIMIZER_SWAPS:
                swap = OPTIMIZER_SWAPS[value.value]
                yield Site(
                    index,
                    _replace_keyword_value(_const(swap)),
                    f'optimizer="{value.value}" → optimizer="{swap}"',
                    f"{value.value}→{swap}",
                )
        name = _call_name(node)
        if name in OPTIMIZER_SWAPS and isinstance(node.func, ast.Attribute):
            swap = OPTIMIZER_SWAPS[name]

            def change(call: ast.AST, swap=swap) -> ast.AST:
                call.func.attr = swap
                call.keywords = [k for k in call.keywords if k.arg != "nesterov"]
                return call

            yield Site(index, change, f"{_text(node)} → {swap}(…)", f"{name}→{swap}")


def _replace_keyword_value(value: ast.AST) -> Callable[[ast.AST], ast.AST]:
    def change(keyword: ast.AST) -> ast.AST:
        keyword.value = value
        return keyword

    return change


def op_learning_rate(tree: ast.Module, names: Names) -> Iterator[Site]:
    """A learning rate ten times the one asked for."""
    for index, node in enumerate(_walk(tree)):
        if (
            isinstance(node, ast.keyword)
            and node.arg in ("learning_rate", "initial_learning_rate")
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, float)
        ):
            old = node.value.value
            new = round(old * 10, 6)
            yield Site(
                index,
                _replace_keyword_value(_const(new)),
                f"{node.arg}={old:g} → {node.arg}={new:g}",
                f"{old:g}",
            )


def _sequential_lists(tree: ast.Module) -> Iterator[tuple[int, ast.List]]:
    for index, node in enumerate(_walk(tree)):
        if isinstance(node, ast.List) and any(_call_name(e) in LAYER_TYPES for e in node.elts):
            yield index, node


def op_drop_layer(tree: ast.Module, names: Names) -> Iterator[Site]:
    """A layer left out (one per layer type, the last of its kind); ``keras.Input`` too."""
    nodes = _walk(tree)
    position = {id(node): i for i, node in enumerate(nodes)}
    for _, listing in _sequential_lists(tree):
        last_of_type: dict[str, ast.AST] = {}
        for element in listing.elts:
            kind = _call_name(element)
            if kind in LAYER_TYPES or kind == "Input":
                last_of_type[kind] = element
        for kind, element in last_of_type.items():
            yield Site(position[id(element)], _remove, f"{_text(element)} left out", f"{kind}")


def op_add_layer(tree: ast.Module, names: Names) -> Iterator[Site]:
    """An extra hidden ``Dense(16, relu)`` before the output layer."""
    for index, listing in _sequential_lists(tree):
        if _call_name(listing.elts[-1]) != "Dense":
            continue

        def change(node: ast.AST) -> ast.AST:
            extra = ast.parse('layers.Dense(16, activation="relu")').body[0].value
            node.elts.insert(len(node.elts) - 1, extra)
            return node

        yield Site(index, change, 'Dense(16, activation="relu") added before the output', "dense16")


def _first_int_argument(kinds: set[str], factor: Callable[[int], int], what: str) -> Operator:
    def operator(tree: ast.Module, names: Names) -> Iterator[Site]:
        for index, node in enumerate(_walk(tree)):
            if _call_name(node) in kinds and node.args and isinstance(node.args[0], ast.Constant):
                old = node.args[0].value
                if not isinstance(old, int) or isinstance(old, bool):
                    continue
                new = factor(old)

                def change(call: ast.AST, new=new) -> ast.AST:
                    call.args[0] = _const(new)
                    return call

                yield Site(index, change, f"{_text(node)} → {what} {new}", f"{old}→{new}")

    operator.__doc__ = f"Other {what} in a layer."
    return operator


op_units = _first_int_argument({"Dense"}, lambda n: n + 1 if n <= 10 else n * 2, "units")
op_filters = _first_int_argument({"Conv2D"}, lambda n: n // 2, "filters")


def _tuple_argument(kinds: set[str], position: int, keyword: str, new: tuple, what: str):
    def operator(tree: ast.Module, names: Names) -> Iterator[Site]:
        for index, node in enumerate(_walk(tree)):
            if _call_name(node) not in kinds:
                continue
            if len(node.args) > position:

                def change(call, new=new):
                    call.args[position] = ast.parse(repr(new)).body[0].value
                    return call
            elif _keyword(node, keyword) is not None:
                change = _with_keyword(keyword, ast.parse(repr(new)).body[0].value)
            else:
                continue
            yield Site(index, change, f"{_text(node)} → {what} {new}", f"{_call_name(node)}")

    operator.__doc__ = f"Another {what}."
    return operator


op_kernel_size = _tuple_argument({"Conv2D"}, 1, "kernel_size", (5, 5), "kernel size")
op_pool_size = _tuple_argument({"MaxPool2D", "MaxPooling2D"}, 0, "pool_size", (3, 3), "pool size")


def op_padding(tree: ast.Module, names: Names) -> Iterator[Site]:
    """``padding="same"`` → ``"valid"`` (the default)."""
    for index, node in enumerate(_walk(tree)):
        if isinstance(node, ast.Call) and _keyword_constant(node, "padding") == "same":
            yield Site(
                index,
                _with_keyword("padding", _const("valid")),
                f'{_text(node)} → padding="valid"',
                f"{_call_name(node)}",
            )


def op_pooling(tree: ast.Module, names: Names) -> Iterator[Site]:
    """Max pooling → average pooling."""
    for index, node in enumerate(_walk(tree)):
        if _call_name(node) in ("MaxPool2D", "MaxPooling2D") and isinstance(
            node.func, ast.Attribute
        ):

            def change(call: ast.AST) -> ast.AST:
                call.func.attr = "AveragePooling2D"
                return call

            yield Site(index, change, f"{_text(node)} → AveragePooling2D", "average")


def op_rate(tree: ast.Module, names: Names) -> Iterator[Site]:
    """Another dropout rate, or augmentation factors ten times larger."""
    for index, node in enumerate(_walk(tree)):
        kind = _call_name(node)
        if kind not in ("Dropout", "RandomRotation", "RandomZoom", "RandomTranslation"):
            continue
        if node.args and isinstance(node.args[0], ast.Constant):
            old = node.args[0].value
            new = 0.6 if kind == "Dropout" else round(old * 10, 4)

            def change(call: ast.AST, new=new) -> ast.AST:
                call.args = [_const(new) for _ in call.args]
                return call

            yield Site(index, change, f"{_text(node)} → {kind}({new})", f"{kind}")


def op_flip(tree: ast.Module, names: Names) -> Iterator[Site]:
    """A ``RandomFlip`` among the augmentation layers."""
    for index, listing in _sequential_lists(tree):
        if not any(_call_name(e).startswith("Random") for e in listing.elts):
            continue

        def change(node: ast.AST) -> ast.AST:
            node.elts.append(ast.parse('layers.RandomFlip("horizontal")').body[0].value)
            return node

        yield Site(index, change, 'layers.RandomFlip("horizontal") added', "flip")


def _standardisations(tree: ast.Module) -> Iterator[tuple[int, ast.BinOp]]:
    """``(X - a) / b`` expressions."""
    for index, node in enumerate(_walk(tree)):
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Div)
            and isinstance(node.left, ast.BinOp)
            and isinstance(node.left.op, ast.Sub)
        ):
            yield index, node


def op_unscaled(tree: ast.Module, names: Names) -> Iterator[Site]:
    """A split left unscaled: ``(X - mean) / std`` → ``X``; ``x / 255`` → ``x``."""
    for index, node in _standardisations(tree):
        yield Site(
            index,
            _replace_with(node.left.left),
            f"{_text(node)} → {_text(node.left.left)}",
            _text(node.left.left, 20),
        )
    for index, node in enumerate(_walk(tree)):
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Div)
            and isinstance(node.right, ast.Constant)
            and node.right.value in (255, 255.0)
        ):
            yield Site(
                index,
                _replace_with(node.left),
                f"{_text(node)} → {_text(node.left)}",
                f"{_subject(node.left)}/255",
            )


def op_own_statistics(tree: ast.Module, names: Names) -> Iterator[Site]:
    """A split standardised with its own mean and standard deviation."""
    for index, node in _standardisations(tree):
        data = node.left.left
        if not isinstance(data, ast.Name):
            continue
        mean = ast.parse(f"{data.id}.mean(axis=0)").body[0].value
        std = ast.parse(f"{data.id}.std(axis=0)").body[0].value
        yield Site(
            index,
            _replace_with(ast.BinOp(ast.BinOp(data, ast.Sub(), mean), ast.Div(), std)),
            f"{_text(node)} → ({data.id} - {data.id}.mean(axis=0)) / {data.id}.std(axis=0)",
            data.id,
        )


def op_astype(tree: ast.Module, names: Names) -> Iterator[Site]:
    """A conversion left out: ``.astype("float32")`` / ``.astype("int64")``."""
    for index, node in enumerate(_walk(tree)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "astype"
        ):
            yield Site(
                index,
                _replace_with(node.func.value),
                f"{_text(node)} → {_text(node.func.value)}",
                _text(node.func.value, 24),
            )


def op_units_back(tree: ast.Module, names: Names) -> Iterator[Site]:
    """Predictions left in scaled units: ``p * std + mean`` → ``p``."""
    for index, node in enumerate(_walk(tree)):
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Add)
            and isinstance(node.left, ast.BinOp)
            and isinstance(node.left.op, ast.Mult)
            and isinstance(node.right, ast.Name)
            and isinstance(node.left.right, ast.Name)
            and node.left.right.id != node.right.id
            and not isinstance(node.left.left, ast.Name)
        ):
            yield Site(
                index,
                _replace_with(node.left.left),
                f"{_text(node)} → {_text(node.left.left)}",
                "scaled",
            )


def _fit_calls(tree: ast.Module) -> Iterator[tuple[int, ast.Call]]:
    for index, node in enumerate(_walk(tree)):
        if _call_name(node) == "fit":
            yield index, node


def op_validation(tree: ast.Module, names: Names) -> Iterator[Site]:
    """The test split as validation data, or no validation at all."""
    for index, node in _fit_calls(tree):
        if _keyword(node, "validation_split") is None:
            continue
        yield Site(
            index,
            _with_keyword("validation_split", None),
            "validation_split removed from fit",
            "none",
        )
        if len(node.args) < 2 or not all(isinstance(a, ast.Name) for a in node.args[:2]):
            continue
        test = [a.id.replace("train", "test") for a in node.args[:2]]
        if all(name in names.assigned for name in test) and test != [a.id for a in node.args[:2]]:
            value = ast.parse(f"({test[0]}, {test[1]})").body[0].value

            def change(call: ast.AST, value=value) -> ast.AST:
                call.keywords = [k for k in call.keywords if k.arg != "validation_split"]
                call.keywords.append(ast.keyword(arg="validation_data", value=value))
                return call

            yield Site(
                index,
                change,
                f"validation_split=… → validation_data=({test[0]}, {test[1]})",
                "test",
            )


def op_fit_arguments(tree: ast.Module, names: Names) -> Iterator[Site]:
    """One epoch, Keras's default batch size, the callbacks left out."""
    for index, node in _fit_calls(tree):
        if _keyword(node, "epochs") is not None:
            yield Site(index, _with_keyword("epochs", _const(1)), "fit(…, epochs=1)", "epochs1")
        batch = _keyword(node, "batch_size")
        if batch is not None and not (
            isinstance(batch.value, ast.Constant) and batch.value.value == 32
        ):
            # (leaving out batch_size=32, Keras's default, would change nothing)
            yield Site(
                index, _with_keyword("batch_size", None), "fit without batch_size (32)", "batch"
            )
        if _keyword(node, "callbacks") is not None:
            yield Site(
                index, _with_keyword("callbacks", None), "fit without callbacks", "callbacks"
            )


def op_callback(tree: ast.Module, names: Names) -> Iterator[Site]:
    """EarlyStopping settings: training loss watched, best weights not restored, patience."""
    for index, node in enumerate(_walk(tree)):
        if _call_name(node) != "EarlyStopping":
            continue
        for name, value, slug in (
            ("monitor", _const("loss"), "monitor"),
            ("restore_best_weights", _const(False), "restore"),
            ("patience", _const(10), "patience"),
        ):
            if _keyword(node, name) is not None:
                yield Site(
                    index, _with_keyword(name, value), f"EarlyStopping({name}={_text(value)})", slug
                )


def op_labels(tree: ast.Module, names: Names) -> Iterator[Site]:
    """Probabilities handed in as labels; another threshold."""
    for index, node in enumerate(_walk(tree)):
        if _call_name(node) == "argmax" and node.args:
            yield Site(
                index,
                _replace_with(node.args[0]),
                f"{_text(node)} → {_text(node.args[0])} (probabilities)",
                "argmax",
            )
        if (
            isinstance(node, ast.Compare)
            and len(node.comparators) == 1
            and isinstance(node.comparators[0], ast.Constant)
            and node.comparators[0].value == 0.5
        ):

            def change(compare: ast.AST) -> ast.AST:
                compare.comparators = [_const(0.9)]
                return compare

            yield Site(index, change, f"{_text(node)} → threshold 0.9", "threshold")


def op_onehot(tree: ast.Module, names: Names) -> Iterator[Site]:
    """One-hot encoding left out: ``to_categorical(y, k)`` → ``y``."""
    for index, node in enumerate(_walk(tree)):
        if _call_name(node) == "to_categorical" and node.args:
            yield Site(
                index, _replace_with(node.args[0]), f"{_text(node)} → {_text(node.args[0])}", "y"
            )


def op_arithmetic(tree: ast.Module, names: Names) -> Iterator[Site]:
    """Hand arithmetic gone wrong: the last term of a sum dropped (e.g. the bias)."""
    for index, node in enumerate(_walk(tree)):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            yield Site(
                index,
                _replace_with(node.left),
                f"{_text(node)} → {_text(node.left)}",
                _text(node, 24).replace("*", "x"),
            )


def op_shape(tree: ast.Module, names: Names) -> Iterator[Site]:
    """A shape worked out wrong: a tuple of sizes with its first size rounded up."""
    for index, node in enumerate(_walk(tree)):
        if (
            isinstance(node, ast.Tuple)
            and len(node.elts) == 3
            and all(isinstance(e, ast.Constant) and isinstance(e.value, int) for e in node.elts)
        ):
            sizes = [e.value for e in node.elts]
            new = (sizes[0] + 1, sizes[1] + 1, sizes[2])

            def change(tup: ast.AST, new=new) -> ast.AST:
                return ast.Tuple([_const(v) for v in new], ast.Load())

            yield Site(index, change, f"{tuple(sizes)} → {new}", "x".join(map(str, sizes)))


def op_keras_count(tree: ast.Module, names: Names) -> Iterator[Site]:
    """A hand count replaced by Keras's (``model.count_params()``) or a copied number."""
    models = sorted(name for name in names.before if name.endswith("model"))
    for index, node in enumerate(_walk(tree)):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target = node.targets[0]
        if not (isinstance(target, ast.Name) and target.id.endswith("params")):
            continue
        value = _constant_value(node.value)
        if value is not None:
            yield Site(
                index,
                _replace_value(_const(value)),
                f"{target.id} = {_text(node.value)} → {target.id} = {value}",
                f"{target.id}=copied",
            )
        owner = _model_for(target.id, models)
        if owner:
            call = ast.parse(f"{owner}.count_params()").body[0].value
            yield Site(
                index,
                _replace_value(call),
                f"{target.id} = … → {target.id} = {owner}.count_params()",
                f"{target.id}=count_params",
            )


def _replace_value(value: ast.AST) -> Callable[[ast.AST], ast.AST]:
    def change(assign: ast.AST) -> ast.AST:
        assign.value = value
        return assign

    return change


def _constant_value(node: ast.AST) -> int | None:
    """The value of an arithmetic expression of integer constants (None otherwise)."""
    if not all(
        isinstance(n, ast.BinOp | ast.Constant | ast.operator | ast.expr_context)
        for n in ast.walk(node)
    ) or isinstance(node, ast.Constant):
        return None
    try:
        value = eval(compile(ast.Expression(node), "<arithmetic>", "eval"), {"__builtins__": {}})
    except Exception:
        return None
    return value if isinstance(value, int) else None


def _model_for(name: str, models: list[str]) -> str | None:
    """The model a ``*_params`` answer is about: ``hidden_params`` → ``hidden_model``."""
    stem = name.removesuffix("_params")
    for candidate in (f"{stem}_model", "model"):
        if candidate in models:
            return candidate
    return None


def op_save_load(tree: ast.Module, names: Names) -> Iterator[Site]:
    """The model never saved, or the "reloaded" model the same object."""
    for index, node in enumerate(_walk(tree)):
        if isinstance(node, ast.Expr) and _call_name(node.value) in ("save", "save_model"):
            yield Site(index, _remove, f"{_text(node)} left out", "save")
        if isinstance(node, ast.Assign) and _call_name(node.value) == "load_model":
            yield Site(
                index,
                _replace_value(ast.Name("model", ast.Load())),
                f"{_text(node)} → {ast.unparse(node.targets[0])} = model",
                "alias",
            )


def op_freezing(tree: ast.Module, names: Names) -> Iterator[Site]:
    """Freezing undone or overdone: ``x.trainable = False`` ↔ ``True``; a computed flag → True."""
    for index, node in enumerate(_walk(tree)):
        if not (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Attribute)
            and node.targets[0].attr == "trainable"
        ):
            continue
        old = node.value.value if isinstance(node.value, ast.Constant) else None
        new = not old if isinstance(old, bool) else True
        target = ast.unparse(node.targets[0])

        def change(assign: ast.AST, new=new) -> ast.AST:
            assign.value = _const(new)
            return assign

        yield Site(index, change, f"{_text(node)} → {target} = {new}", f"{target}={new}")


def op_include_top(tree: ast.Module, names: Names) -> Iterator[Site]:
    """The pretrained network's own classifier kept: ``include_top=False`` → True."""
    for index, node in enumerate(_walk(tree)):
        if isinstance(node, ast.Call) and _keyword_constant(node, "include_top") is False:
            yield Site(
                index,
                _with_keyword("include_top", _const(True)),
                f"{_text(node)} → include_top=True",
                "include_top",
            )


def op_pretrained_weights(tree: ast.Module, names: Names) -> Iterator[Site]:
    """No pretrained weights: ``weights="<name>"`` → ``weights=None`` (random start)."""
    for index, node in enumerate(_walk(tree)):
        if isinstance(node, ast.Call) and isinstance(_keyword_constant(node, "weights"), str):
            yield Site(
                index, _with_keyword("weights", _const(None)), f"{_text(node)} → weights=None",
                "none",
            )  # fmt: skip


def op_channels(tree: ast.Module, names: Names) -> Iterator[Site]:
    """One grey channel where three are asked for: ``np.repeat(a, 3, axis=-1)`` → ``a``."""
    for index, node in enumerate(_walk(tree)):
        if (
            _call_name(node) == "repeat"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == 3
        ):
            kept = node.args[0]
            yield Site(index, _replace_with(kept), f"{_text(node)} → {_text(kept)}", "one_channel")


OPERATORS: dict[str, Operator] = {
    "activation": op_activation,
    "loss": op_loss,
    "from_logits": op_from_logits,
    "optimizer": op_optimizer,
    "learning_rate": op_learning_rate,
    "drop_layer": op_drop_layer,
    "add_layer": op_add_layer,
    "units": op_units,
    "filters": op_filters,
    "kernel_size": op_kernel_size,
    "padding": op_padding,
    "pooling": op_pooling,
    "pool_size": op_pool_size,
    "rate": op_rate,
    "flip": op_flip,
    "unscaled": op_unscaled,
    "own_statistics": op_own_statistics,
    "astype": op_astype,
    "units_back": op_units_back,
    "validation": op_validation,
    "fit_arguments": op_fit_arguments,
    "callback": op_callback,
    "labels": op_labels,
    "onehot": op_onehot,
    "arithmetic": op_arithmetic,
    "shape": op_shape,
    "keras_count": op_keras_count,
    "save_load": op_save_load,
    "freezing": op_freezing,
    "include_top": op_include_top,
    "pretrained_weights": op_pretrained_weights,
    "channels": op_channels,
}
"""The catalogue: operator name → where it applies in an answer cell and what it changes."""


# --- applying a mutation ------------------------------------------------------------------------


def _parents(tree: ast.AST) -> dict[int, tuple[ast.AST, str, int | None]]:
    """id(child) → (parent, field, index in the field's list or None)."""
    parents = {}
    for node in ast.walk(tree):
        for name, value in ast.iter_fields(node):
            if isinstance(value, list):
                for position, child in enumerate(value):
                    if isinstance(child, ast.AST):
                        parents[id(child)] = (node, name, position)
            elif isinstance(value, ast.AST):
                parents[id(value)] = (node, name, None)
    return parents


def apply(source: str, tree: ast.Module, site: Site) -> str | None:
    """``source`` with ``site``'s change made; only the statement holding it is rewritten.

    None when the change cannot be made (e.g. removing a node that is not in a list).
    """
    mutated = copy.deepcopy(tree)
    nodes = _walk(mutated)
    target = nodes[site.index]
    parents = _parents(mutated)
    statement = target
    while not isinstance(statement, ast.stmt):
        statement = parents[id(statement)][0]
    statement_index = next(i for i, node in enumerate(nodes) if node is statement)
    original = _walk(tree)[statement_index]
    replacement = site.change(target)
    if target is statement and replacement is None:
        new_text = "pass"
    else:
        if replacement is not target:
            parent, name, position = parents[id(target)]
            if position is None:
                if replacement is None:
                    return None
                setattr(parent, name, replacement)
            elif replacement is None:
                del getattr(parent, name)[position]
            else:
                getattr(parent, name)[position] = replacement
        new_text = ast.unparse(ast.fix_missing_locations(statement))
    lines = source.splitlines()
    start, end = original.lineno - 1, original.end_lineno
    indent = " " * original.col_offset
    if any(
        isinstance(other, ast.stmt)
        and other is not original
        and not _contains(original, other)
        and not _contains(other, original)
        and other.lineno <= end
        and other.end_lineno >= start + 1
        for other in ast.walk(tree)
    ):
        return None  # another statement shares these lines
    new_lines = [indent + line for line in new_text.splitlines()]
    return "\n".join([*lines[:start], *new_lines, *lines[end:]])


def _contains(outer: ast.AST, inner: ast.AST) -> bool:
    return any(node is inner for node in ast.walk(outer))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.→+=-]+", "", text.replace(" ", ""))[:40] or "site"


FIT_OPERATORS = {"validation", "fit_arguments"}
"""Operators that may change code given outside the solution region: the fit call."""


def _statement_line(tree: ast.Module, index: int) -> int:
    """The first line of the statement holding node ``index`` of ``ast.walk(tree)``."""
    nodes = _walk(tree)
    parents = _parents(tree)
    node = nodes[index]
    while not isinstance(node, ast.stmt):
        node = parents[id(node)][0]
    return node.lineno


def mutants_of_cell(
    cell: str, source: str, names: Names, solution: set[int] | None = None
) -> list[Mutant]:
    """Every mutant of one answer cell, operator by operator, in source order.

    ``solution``: the lines of the solution region; other lines (code the task gives) are
    only changed by the fit-call operators. None: every line.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found: list[Mutant] = []
    seen: set[str] = set()
    for operator, generate in OPERATORS.items():
        sites = list(generate(tree, names))
        for site in sites:
            if (
                solution is not None
                and operator not in FIT_OPERATORS
                and _statement_line(tree, site.index) not in solution
            ):
                continue
            text = apply(source, tree, site)
            if text is None or text == source:
                continue
            try:
                ast.parse(text)
            except SyntaxError:
                continue
            base = f"{cell}/{operator}/{_slug(site.slug)}"
            mutant_id, n = base, 2
            while mutant_id in seen:
                mutant_id, n = f"{base}#{n}", n + 1
            seen.add(mutant_id)
            found.append(Mutant(mutant_id, cell, operator, site.description, text))
    return found


def solution_text(cell) -> str:
    """A source answer cell as a student would write it: solution kept, markers dropped."""
    return "\n".join(
        line
        for line in str(cell.source).splitlines()
        if not line.strip().startswith(("### BEGIN SOLUTION", "### END SOLUTION"))
    )


def solution_lines(cell) -> set[int]:
    """Line numbers (in :func:`solution_text`) between the solution markers."""
    lines, inside, number = set(), False, 0
    for line in str(cell.source).splitlines():
        marker = line.strip()
        if marker.startswith("### BEGIN SOLUTION"):
            inside = True
            continue
        if marker.startswith("### END SOLUTION"):
            inside = False
            continue
        number += 1
        if inside:
            lines.add(number)
    return lines


def answer_cells(course: Course, lesson: str) -> dict[str, str]:
    """grade_id → the reference solution's code, for every answer cell of the lesson."""
    return {
        cells.grade_id(cell): solution_text(cell)
        for cell in course.source_notebook(lesson).cells
        if cells.is_answer(cell) and cell.cell_type == "code"
    }


def _assigned(cell) -> set[str]:
    try:
        tree = ast.parse(solution_text(cell))
    except SyntaxError:
        return set()
    return {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    }


def catalogue(course: Course, lesson: str) -> list[Mutant]:
    """Every mutant of the lesson's reference solution."""
    code = [c for c in course.source_notebook(lesson).cells if c.cell_type == "code"]
    everywhere = frozenset().union(*(_assigned(c) for c in code))
    found, before = [], set()
    for cell in code:
        if cells.is_answer(cell):
            names = Names(everywhere, frozenset(before))
            found += mutants_of_cell(
                cells.grade_id(cell), solution_text(cell), names, solution_lines(cell)
            )
        before |= _assigned(cell)
    return found


def sample(mutants: list[Mutant], limit: int | None, keep: set[str]) -> list[Mutant]:
    """At most ``limit`` mutants, spread over the operators (every operator first, then
    the second site of each, …), always including the ids in ``keep``; catalogue order."""
    if limit is None or len(mutants) <= limit:
        return list(mutants)
    by_operator: dict[str, list[Mutant]] = {}
    for mutant in mutants:
        by_operator.setdefault(mutant.operator, []).append(mutant)
    for group in by_operator.values():  # a stable, content-based order within an operator
        group.sort(key=lambda m: hashlib.sha256(m.id.encode()).hexdigest())
    chosen = {m.id for m in mutants if m.id in keep}
    rank = 0
    while len(chosen) < limit and any(rank < len(g) for g in by_operator.values()):
        for group in by_operator.values():
            if rank < len(group) and len(chosen) < limit:
                chosen.add(group[rank].id)
        rank += 1
    return [m for m in mutants if m.id in chosen]


# --- the lesson's file of equivalents and expectations ------------------------------------------


@dataclass(frozen=True)
class MutantFile:
    """``autograder/mutants/<lesson>.toml``: equivalent mutants, pinned messages, settings."""

    equivalent: dict[str, str] = field(default_factory=dict)
    expect: dict[str, str] = field(default_factory=dict)
    max_mutants: int | None = None

    @classmethod
    def read(cls, path: Path) -> MutantFile:
        if not path.is_file():
            return cls()
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        settings = data.get("settings", {})
        return cls(
            {str(k): str(v) for k, v in data.get("equivalent", {}).items()},
            {str(k): str(v) for k, v in data.get("expect", {}).items()},
            settings.get("max_mutants"),
        )


def mutant_file_path(course: Course, lesson: str) -> Path:
    return course.autograder_dir / "mutants" / f"{lesson}.toml"


# --- grading the mutants ------------------------------------------------------------------------


def mutant_notebook(course: Course, lesson: str, mutant: Mutant | None) -> nbformat.NotebookNode:
    """The release notebook filled in with the solution, one cell replaced by the mutant's."""
    answers = answer_cells(course, lesson)
    if mutant is not None:
        answers[mutant.cell] = mutant.source
    notebook = nbformat.read(course.release_notebook_path(lesson), as_version=4)
    for cell in notebook.cells:
        if cells.grade_id(cell) in answers and cells.is_answer(cell):
            cell.source = answers[cells.grade_id(cell)]
    return notebook


def _judge(mutant: Mutant, report, file: MutantFile) -> MutantResult:
    """Killed, survived, equivalent…: what ``report`` (a job's result) says about ``mutant``."""
    grade = report.report
    failed = [(t.id, (t.message.splitlines() or [""])[0]) for t in grade.tests if not t.passed]
    result = MutantResult(
        mutant,
        "",
        failed,
        score=grade.score,
        max_score=grade.max_score,
        seconds=report.wall_seconds,
    )
    if report.status is Status.ERROR:
        result.outcome, result.note = "error", report.reason or "the kit failed"
    elif mutant.id == CONTROL:
        result.outcome = "passed" if not failed else "failed"
        result.note = "" if not failed else "the reference solution itself loses points"
    elif mutant.id in file.equivalent:
        result.outcome, result.note = "equivalent", file.equivalent[mutant.id]
        if failed:
            result.outcome = "killed"
            result.note = "listed as equivalent but killed: remove it from the file"
    elif not failed:
        result.outcome = "survived"
    else:
        result.outcome = "killed"
        wanted = file.expect.get(mutant.id)
        if wanted and not any(wanted in f"{test}: {message}" for test, message in failed):
            result.outcome, result.note = "unexpected", f"expected a message with {wanted!r}"
    return result


def check_graders(
    course: Course,
    lessons: list[str],
    *,
    limits: Limits,
    workers: int = 2,
    only: list[str] | None = None,
    limit: int | None = -1,
    control: bool = True,
    progress: Callable[[str], None] | None = None,
) -> list[LessonReport]:
    """Grade the mutants of ``lessons`` in one pool; one report per lesson.

    ``only``: glob patterns of mutant ids to grade; ``limit``: mutants per lesson (-1: the
    lesson file's ``max_mutants``, None: all); ``control``: grade the unmutated solution
    too (it must keep full marks, or the lesson's verdicts mean nothing).
    """
    from course_lib.classroom.batch import LocalPool
    from course_lib.classroom.job import Job

    reports: dict[str, LessonReport] = {}
    jobs: list[tuple[str, Mutant, Job]] = []
    files: dict[str, MutantFile] = {}
    for lesson in lessons:
        file = files[lesson] = MutantFile.read(mutant_file_path(course, lesson))
        everything = catalogue(course, lesson)
        ids = {m.id for m in everything}
        report = reports[lesson] = LessonReport(lesson, catalogue_size=len(everything))
        report.stale = [
            f"{kind} entry {entry!r} names no mutant of the catalogue"
            for kind, entries in (("equivalent", file.equivalent), ("expect", file.expect))
            for entry in entries
            if entry not in ids
        ]
        chosen = everything
        if only:
            chosen = [m for m in everything if any(fnmatch.fnmatch(m.id, p) for p in only)]
        else:
            cap = file.max_mutants if limit == -1 else limit
            chosen = sample(everything, cap, set(file.expect) | set(file.equivalent))
        unchanged = Mutant(CONTROL, "", "", "the reference solution, unchanged", "")
        for mutant in [unchanged, *chosen] if control else chosen:
            notebook = mutant_notebook(course, lesson, None if mutant is unchanged else mutant)
            content = nbformat.writes(notebook).encode("utf-8")
            jobs.append(
                (
                    lesson,
                    mutant,
                    Job(
                        course_root=str(course.root),
                        lesson=lesson,
                        student=re.sub(r"[^A-Za-z0-9_.-]+", "-", mutant.id)[:80],
                        filename=f"{lesson}.ipynb",
                        content=content,
                        fingerprint=hashlib.sha256(content).hexdigest(),
                        limits=asdict(limits),
                    ),
                )
            )
    started = {lesson: time.monotonic() for lesson in lessons}
    finished: dict[str, float] = {}
    remaining = {lesson: sum(1 for job in jobs if job[0] == lesson) for lesson in lessons}
    pool = LocalPool(workers, limits)
    try:
        futures = {pool.submit(job): (lesson, mutant) for lesson, mutant, job in jobs}
        for future in pool.completed(list(futures)):
            lesson, mutant = futures[future]
            try:
                result = _judge(mutant, future.result(), files[lesson])
            except Exception as exc:  # the worker failed: a fault of the kit
                result = MutantResult(mutant, "error", note=f"{type(exc).__name__}: {exc}")
            reports[lesson].results.append(result)
            remaining[lesson] -= 1
            if not remaining[lesson]:
                finished[lesson] = time.monotonic()
            if progress:
                progress(f"{lesson} {mutant.id}: {result.outcome}")
    finally:
        pool.close()
    for lesson, report in reports.items():
        order = {m.id: i for i, (les, m, _) in enumerate(jobs) if les == lesson}
        report.results.sort(key=lambda r: order[r.mutant.id])
        report.wall_seconds = round(finished.get(lesson, time.monotonic()) - started[lesson], 1)
    return [reports[lesson] for lesson in lessons]


def to_json(reports: list[LessonReport], wall_seconds: float) -> str:
    return json.dumps(
        {"wall_seconds": round(wall_seconds, 1), "lessons": [r.as_json() for r in reports]},
        ensure_ascii=False,
        indent=1,
    )
