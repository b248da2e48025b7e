"""Turn a Keras model into plain records that graders and self-checks compare.

* :func:`layer_records` — one :class:`LayerRecord` per computing layer, with a separate
  ``Activation``/``ReLU``/``Softmax`` layer folded into the layer before it, so
  ``Dense(10, activation="relu")`` and ``Dense(10)`` + ``Activation("relu")`` compare equal.
* :func:`diff_layers` — aligns an expected and a found sequence and lists every difference.
* :func:`compile_settings` — loss, optimizer and metrics as canonical names, whatever
  spelling (``"mse"``, ``"mean_squared_error"``, ``keras.losses.MeanSquaredError()``) was used.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace

# Attributes compared when the expected record states them (None = "don't care").
_COMPARED = (
    "units",
    "activation",
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "pool_size",
    "rate",
    "target_shape",
)

# The hint of a difference when the check gives none: what the attribute means, never its value.
_DEFAULT_HINTS = {
    "type": "use the kind of layer the task names at this position",
    "units": "use the number of units the task states: it is the size of the layer's output",
    "activation": "use the activation the task states: it decides what the layer can output",
    "filters": "use the number of filters the task states: one feature map per filter",
    "kernel_size": "use the kernel size the task states: the window each filter looks at",
    "strides": "use the strides the task states: how far the window moves at each step",
    "padding": 'use the padding the task states: "same" keeps height and width, "valid" shrinks',
    "pool_size": "use the pool size the task states: the window each pooling step summarises",
    "rate": "use the rate the task states: the fraction of inputs dropped while training",
    "target_shape": "use the target shape the task states: each sample's shape after the layer",
}

_ACTIVATION_LAYERS = {"Activation", "ReLU", "Softmax", "LeakyReLU", "ELU", "PReLU"}
_TYPE_ALIASES = {
    "MaxPool2D": "MaxPooling2D",
    "AvgPool2D": "AveragePooling2D",
    "MaxPool1D": "MaxPooling1D",
}


@dataclass(frozen=True)
class LayerRecord:
    """One computing layer, as the course talks about it."""

    type: str
    units: int | None = None
    activation: str | None = None
    filters: int | None = None
    kernel_size: tuple[int, ...] | None = None
    strides: tuple[int, ...] | None = None
    padding: str | None = None
    pool_size: tuple[int, ...] | None = None
    rate: float | None = None
    target_shape: tuple[int, ...] | None = None
    input_shape: tuple[int | None, ...] | None = field(default=None, compare=False)
    params: int | None = field(default=None, compare=False)
    output_shape: tuple[int | None, ...] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", _TYPE_ALIASES.get(self.type, self.type))
        for name in ("kernel_size", "strides", "pool_size"):
            value = getattr(self, name)
            if isinstance(value, int):
                object.__setattr__(self, name, (value, value))
            elif value is not None:
                object.__setattr__(self, name, tuple(value))

    def describe(self) -> str:
        """``Dense(units=10, activation="relu")`` with only the attributes that are set."""
        parts = []
        for name in _COMPARED:
            value = getattr(self, name)
            if value is None:
                continue
            parts.append(f'{name}="{value}"' if isinstance(value, str) else f"{name}={value}")
        return f"{self.type}({', '.join(parts)})"


@dataclass(frozen=True)
class LayerDiff:
    """One difference between the expected and the found layers."""

    kind: str  # "type", an attribute name, "missing" or "extra"
    summary: str
    expected: str
    found: str
    default_hint: str | None = None


@dataclass(frozen=True)
class CompileSettings:
    """Compile configuration as canonical names."""

    loss: str | None
    optimizer: str | None
    metrics: tuple[str, ...]
    optimizer_config: dict
    from_logits: bool = False
    """The loss was told that the outputs are raw scores (a loss object's setting)."""

    @property
    def learning_rate(self) -> float | dict | None:
        """The optimizer's learning rate: a number, or a schedule's ``{class_name, config}``."""
        value = self.optimizer_config.get("learning_rate")
        if isinstance(value, dict):
            return {"class_name": value.get("class_name"), "config": value.get("config") or {}}
        return float(value) if isinstance(value, int | float) else None


def layer_records(model) -> list[LayerRecord]:
    """The model's computing layers as records, activation layers folded in."""
    records: list[LayerRecord] = []
    for layer in flat_layers(model):
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        if kind in _ACTIVATION_LAYERS and records and records[-1].activation in (None, "linear"):
            records[-1] = replace(records[-1], activation=_activation_of(layer), params=None)
            continue
        records.append(_record(layer))
    return records


def flat_layers(model):
    """The model's layers, with nested Sequential/Functional models opened up."""
    for layer in model.layers:
        if hasattr(layer, "layers") and type(layer).__name__ in {"Sequential", "Functional"}:
            yield from flat_layers(layer)
        else:
            yield layer


def _activation_of(layer) -> str:
    kind = type(layer).__name__
    if kind == "Activation":
        return _activation_name(layer.get_config().get("activation"))
    return {
        "ReLU": "relu",
        "Softmax": "softmax",
        "LeakyReLU": "leaky_relu",
        "ELU": "elu",
        "PReLU": "prelu",
    }[kind]


def _activation_name(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("config", value.get("class_name"))
    if callable(value):
        value = getattr(value, "__name__", str(value))
    return str(value).lower()


def _record(layer) -> LayerRecord:
    config = layer.get_config()
    kind = type(layer).__name__
    values: dict = {"type": kind}
    if "units" in config:
        values["units"] = int(config["units"])
    if "filters" in config:
        values["filters"] = int(config["filters"])
    if "activation" in config:
        values["activation"] = _activation_name(config["activation"])
    for name in ("kernel_size", "strides", "pool_size"):
        if config.get(name) is not None and kind not in _ACTIVATION_LAYERS:
            values[name] = (
                tuple(config[name]) if not isinstance(config[name], int) else config[name]
            )
    if "padding" in config and isinstance(config["padding"], str):
        values["padding"] = config["padding"]
    if kind == "Dropout":
        values["rate"] = float(config["rate"])
    if kind == "Reshape":
        values["target_shape"] = tuple(config["target_shape"])
    try:
        values["params"] = int(layer.count_params())
    except ValueError:  # an unbuilt layer has no weights yet
        values["params"] = None
    try:
        values["output_shape"] = tuple(layer.output.shape)
    except (AttributeError, ValueError):
        values["output_shape"] = None
    return LayerRecord(**values)


def input_shape(model) -> tuple[int | None, ...] | None:
    """The per-sample input shape (batch dimension dropped), or None if never built."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs:
        return None
    return tuple(inputs[0].shape[1:])


def count_params(model) -> int:
    """All parameters, trainable or not, counted from the weights themselves."""
    import numpy as np

    return int(sum(int(np.prod(w.shape)) for w in model.weights))


_GAP_COST = 2.0
_TYPE_COST = 3.0


def _pair_cost(want: LayerRecord, got: LayerRecord) -> float:
    if want.type != got.type:
        return _TYPE_COST
    return float(
        sum(
            1 for name in _COMPARED if getattr(want, name) is not None and _differs(want, got, name)
        )
    )


def _differs(want: LayerRecord, got: LayerRecord, name: str) -> bool:
    wanted, value = getattr(want, name), getattr(got, name)
    if name == "activation":
        wanted, value = (wanted or "linear"), (value or "linear")
    return wanted != value


def _align(expected, found) -> list[tuple[int | None, int | None]]:
    """Least-cost alignment (edit distance) of two record sequences: (expected, found) indices."""
    n, m = len(expected), len(found)
    cost = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        cost[i][0] = i * _GAP_COST
    for j in range(1, m + 1):
        cost[0][j] = j * _GAP_COST
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i][j] = min(
                cost[i - 1][j - 1] + _pair_cost(expected[i - 1], found[j - 1]),
                cost[i - 1][j] + _GAP_COST,
                cost[i][j - 1] + _GAP_COST,
            )
    pairs: list[tuple[int | None, int | None]] = []
    i, j = n, m
    while i > 0 or j > 0:
        if (
            i > 0
            and j > 0
            and cost[i][j] == cost[i - 1][j - 1] + _pair_cost(expected[i - 1], found[j - 1])
        ):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i > 0 and cost[i][j] == cost[i - 1][j] + _GAP_COST:
            pairs.append((i - 1, None))
            i -= 1
        else:
            pairs.append((None, j - 1))
            j -= 1
    return pairs[::-1]


def diff_layers(expected, found) -> list[LayerDiff]:
    """Every difference between two record sequences, after a least-cost alignment."""
    diffs: list[LayerDiff] = []
    total = len(found)
    for want_index, got_index in _align(expected, found):
        if got_index is None:
            want = expected[want_index]
            diffs.append(
                LayerDiff(
                    "missing",
                    f"missing layer: {want.type}",
                    want.describe(),
                    "no such layer at this position" if total else "a model with no layers",
                    "add the layer the task asks for, in the order it gives",
                )
            )
        elif want_index is None:
            got = found[got_index]
            diffs.append(
                LayerDiff(
                    "extra",
                    f"unexpected layer: {got.type}",
                    "no layer here",
                    f"{got.describe()}   (layer {got_index + 1} of {total})",
                    "the task does not ask for this layer",
                )
            )
        elif expected[want_index].type != found[got_index].type:
            want, got = expected[want_index], found[got_index]
            diffs.append(
                LayerDiff(
                    "type",
                    f"{_position_name(want_index, len(expected))}: wrong layer type",
                    want.describe(),
                    f"{got.describe()}   (layer {got_index + 1} of {total})",
                    _DEFAULT_HINTS["type"],
                )
            )
        else:
            diffs.extend(_attribute_diffs(expected[want_index], found[got_index], got_index, total))
    return diffs


def _position_name(index: int, length: int) -> str:
    return "output layer" if index == length - 1 else f"layer {index + 1}"


def _attribute_diffs(
    want: LayerRecord, got: LayerRecord, index: int, total: int
) -> list[LayerDiff]:
    where = "output layer" if index == total - 1 else f"layer {index + 1} ({got.type})"
    return [
        LayerDiff(
            name,
            f"{where}: wrong {name.replace('_', ' ')}",
            want.describe(),
            f"{got.describe()}   (layer {index + 1} of {total})",
            _DEFAULT_HINTS.get(name),
        )
        for name in _COMPARED
        if getattr(want, name) is not None and _differs(want, got, name)
    ]


# --- compile settings -------------------------------------------------------------------------

_LOSSES = {
    "mse": "mean_squared_error",
    "meansquarederror": "mean_squared_error",
    "mean_squared_error": "mean_squared_error",
    "mae": "mean_absolute_error",
    "meanabsoluteerror": "mean_absolute_error",
    "mean_absolute_error": "mean_absolute_error",
    "binarycrossentropy": "binary_crossentropy",
    "binary_crossentropy": "binary_crossentropy",
    "categoricalcrossentropy": "categorical_crossentropy",
    "categorical_crossentropy": "categorical_crossentropy",
    "sparsecategoricalcrossentropy": "sparse_categorical_crossentropy",
    "sparse_categorical_crossentropy": "sparse_categorical_crossentropy",
    "huber": "huber",
}

_METRICS = {
    "mae": "mean_absolute_error",
    "meanabsoluteerror": "mean_absolute_error",
    "mean_absolute_error": "mean_absolute_error",
    "mse": "mean_squared_error",
    "meansquarederror": "mean_squared_error",
    "mean_squared_error": "mean_squared_error",
    "rootmeansquarederror": "root_mean_squared_error",
    "root_mean_squared_error": "root_mean_squared_error",
    "acc": "accuracy",
    "accuracy": "accuracy",
    "binaryaccuracy": "accuracy",
    "binary_accuracy": "accuracy",
    "categoricalaccuracy": "accuracy",
    "categorical_accuracy": "accuracy",
    "sparsecategoricalaccuracy": "accuracy",
    "sparse_categorical_accuracy": "accuracy",
}


def _name_of(entry) -> str | None:
    """A serialised loss/metric/optimizer entry (string, dict or object) → a lowercase name."""
    if entry is None:
        return None
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict):
        if entry.get("class_name") == "function":
            return str(entry.get("config"))
        return str(entry.get("class_name"))
    if callable(entry) and hasattr(entry, "__name__"):
        return entry.__name__
    return type(entry).__name__


def _key(name: str) -> str:
    return re.sub(r"[^a-z_]", "", name.lower())


def normalise_loss(entry) -> str | None:
    """``"mse"``, ``MeanSquaredError()``, ``{"class_name": ...}`` → ``"mean_squared_error"``."""
    name = _name_of(entry)
    if name is None:
        return None
    key = _key(name)
    return _LOSSES.get(key, _LOSSES.get(key.replace("_", ""), key))


_LOSS_CLASSES = {
    "binary_crossentropy": "BinaryCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
}


def loss_class_name(loss: str | None) -> str:
    """``"sparse_categorical_crossentropy"`` → ``"keras.losses.SparseCategoricalCrossentropy"``."""
    return f"keras.losses.{_LOSS_CLASSES.get(loss or '', loss)}"


def _from_logits(entry) -> bool:
    """Whether a serialised loss (a class's ``{"config": {...}}``) sets ``from_logits``."""
    if isinstance(entry, dict):
        config = entry.get("config")
        return isinstance(config, dict) and bool(config.get("from_logits", False))
    return bool(getattr(entry, "from_logits", False))


def normalise_optimizer(entry) -> str | None:
    """``"adam"``, ``"Adam"``, ``keras.optimizers.Adam(...)`` → ``"adam"``."""
    name = _name_of(entry)
    return None if name is None else _key(name).replace("_", "")


def normalise_metric(entry) -> str:
    """Canonical metric name, e.g. ``MeanAbsoluteError()`` → ``"mean_absolute_error"``."""
    key = _key(_name_of(entry) or "")
    return _METRICS.get(key, _METRICS.get(key.replace("_", ""), key))


def compile_settings(model) -> CompileSettings | None:
    """The model's compile settings as canonical names, or None if never compiled."""
    config = model.get_compile_config() if getattr(model, "compiled", False) else None
    if not config:
        return None
    metrics = config.get("metrics") or []
    if isinstance(metrics, dict):  # per-output metrics: flatten
        metrics = [
            m for value in metrics.values() for m in (value if isinstance(value, list) else [value])
        ]
    optimizer = config.get("optimizer")
    optimizer_config = optimizer.get("config", {}) if isinstance(optimizer, dict) else {}
    return CompileSettings(
        loss=normalise_loss(config.get("loss")),
        optimizer=normalise_optimizer(optimizer),
        metrics=tuple(normalise_metric(m) for m in metrics if m is not None),
        optimizer_config=dict(optimizer_config),
        from_logits=_from_logits(config.get("loss")),
    )


# --- answer code ------------------------------------------------------------------------------


def parse_answer(source: str):
    """The answer cell's code as an ``ast`` tree; None when empty or not valid Python.

    IPython lines (``%magic``, ``!shell``) are blanked first, so they do not hide the rest.
    """
    lines = [
        "" if line.lstrip().startswith(("%", "!")) else line for line in str(source).splitlines()
    ]
    text = "\n".join(lines)
    if not text.strip():
        return None
    try:
        return ast.parse(text)
    except SyntaxError:
        return None


def dotted_name(node) -> str:
    """``keras.models.load_model`` for the expression ``keras.models.load_model``; "" otherwise."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call):
        parts.append(dotted_name(node.func) + "()")
    else:
        return ""
    return ".".join(reversed(parts))


def called_names(tree) -> list[str]:
    """The dotted name of every call in ``tree``, in source order."""
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    calls.sort(key=lambda node: (node.lineno, node.col_offset))
    return [dotted_name(node.func) for node in calls]


def attribute_names(tree) -> list[str]:
    """Every attribute read in ``tree`` (``model.weights`` gives ``"weights"``)."""
    return [node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)]


def assigned_values(tree, name: str) -> list:
    """Every expression assigned to ``name`` (``=``, ``+=``, annotated), in source order."""
    values = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets = [t for target in node.targets for t in ast.walk(target)]
        elif isinstance(node, ast.AugAssign | ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            values.append(node.value)
    values.sort(key=lambda node: (node.lineno, node.col_offset))
    return values


def uses_of(tree, names) -> list[str]:
    """Every use of an attribute or function named in ``names``, as written (source order).

    ``model.count_params()`` for a call, ``model.weights`` for an attribute read.
    """
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in names:
            text = dotted_name(node) or f"….{node.attr}"
        elif isinstance(node, ast.Name) and node.id in names:
            text = node.id
        else:
            continue
        found.append((node.lineno, node.col_offset, text + ("()" if id(node) in called else "")))
    return [text for *_, text in sorted(found)]


def functions_calling(tree, function: str) -> set[str]:
    """Names of the functions defined in ``tree`` that call ``function`` (one level)."""
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        and any(call.split(".")[-1] == function for call in called_names(node))
    }


def computation_of(tree, name: str) -> list:
    """The code that computes ``name`` in ``tree``: every value assigned to it, and what those
    use that the same code defines (other variables' values, helper functions' bodies)."""
    functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    found, seen, todo = [], {name}, [name]
    while todo:
        current = todo.pop()
        for value in (
            [functions[current]] if current in functions else assigned_values(tree, current)
        ):
            found.append(value)
            for node in ast.walk(value):
                used = node.id if isinstance(node, ast.Name) else None
                if used and used not in seen and (used in functions or assigned_values(tree, used)):
                    seen.add(used)
                    todo.append(used)
    return found
