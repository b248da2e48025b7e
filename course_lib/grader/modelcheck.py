"""A saved ``.keras`` model, checked before Keras loads it: only what a lesson allows.

``keras.saving.load_model(..., safe_mode=True)`` refuses Python lambdas, but it still builds
any public Keras function or class a config names: a ``Lambda`` layer (or a loss or metric
wrapper) around a public function with arguments of the student's choosing runs when the
graders call the model, e.g. ``keras.visualization.plot_image_gallery(path=...)`` writes a
file. So the graders read ``config.json`` from the zip first and refuse the model unless
every object in it is a built-in Keras layer, model, initializer, regularizer, constraint,
optimizer, schedule, loss or metric from :data:`LAYERS`/:data:`CONFIG_MODULES`, and every
function it names is one the lesson allows (none by default: no ``Lambda`` either unless the
lesson's grader file says so, e.g. ``KERAS_ALLOWED = {"layers": ["Lambda"], "functions":
[["keras.ops", "relu"]]}``). The zip itself must hold only Keras's own members, within size.
"""

from __future__ import annotations

import importlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

LAYERS = frozenset((
    "InputLayer", "Dense", "EinsumDense", "Identity", "Activation", "Dropout",
    "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout",
    "AlphaDropout", "ActivityRegularization", "Masking", "Flatten", "Reshape", "Permute",
    "RepeatVector", "Cropping1D", "Cropping2D", "Cropping3D", "ZeroPadding1D", "ZeroPadding2D",
    "ZeroPadding3D", "UpSampling1D", "UpSampling2D", "UpSampling3D",
    "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
    "AveragePooling3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalAveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
    "BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization",
    "Normalization", "Rescaling", "Resizing", "CenterCrop", "RandomRotation", "RandomZoom",
    "RandomTranslation", "RandomFlip", "RandomContrast", "RandomBrightness", "RandomCrop",
    "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
    "Embedding", "SimpleRNN", "LSTM", "GRU", "SimpleRNNCell", "LSTMCell", "GRUCell",
    "Bidirectional", "TimeDistributed",
))  # fmt: skip
"""Built-in layers that run no code of the student's choosing (no Lambda, TFSMLayer, JaxLayer)."""

MODELS = frozenset(
    {
        ("keras", "Sequential"),
        ("keras", "Functional"),
        ("keras", "Model"),
        ("keras.src.models.functional", "Functional"),
        ("keras", "DTypePolicy"),
        ("keras", "FloatDTypePolicy"),
    }
)

CONFIG_MODULES = frozenset(
    {
        "keras.initializers",
        "keras.regularizers",
        "keras.constraints",
        "keras.optimizers",
        "keras.optimizers.schedules",
        "keras.losses",
        "keras.metrics",
    }
)
"""Modules whose public classes a config may name (a function inside them is checked too)."""

ZIP_MEMBERS = frozenset({"metadata.json", "config.json", "model.weights.h5"})
MAX_CONFIG_BYTES = 5 * 2**20
MAX_UNPACKED_BYTES = 1024 * 2**20
FUNCTION_CLASSES = frozenset({"function", "__lambda__"})


class RefusedModel(Exception):
    """The saved model uses something the lesson does not allow; the message says what."""


@dataclass(frozen=True)
class Allowed:
    """What a lesson's models may contain beyond the built-in defaults."""

    layers: frozenset[str] = LAYERS
    functions: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    @classmethod
    def for_lesson(cls, declared: dict | None) -> Allowed:
        """The defaults plus a grader file's ``KERAS_ALLOWED`` (``layers``, ``functions``)."""
        declared = declared or {}
        return cls(
            layers=LAYERS | frozenset(declared.get("layers", ())),
            functions=frozenset(tuple(f) for f in declared.get("functions", ())),
        )

    def as_json(self) -> dict:
        return {"layers": sorted(self.layers - LAYERS), "functions": sorted(self.functions)}


def _public_class(module: str, name: str) -> bool:
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return False
    return isinstance(found, type) and not name.startswith("_")


def _describe(entry: dict) -> str:
    module, name = entry.get("module"), entry.get("class_name")
    if name in FUNCTION_CLASSES:
        config = entry.get("config")
        return f"the function {module}.{config}" if isinstance(config, str) else "a Python lambda"
    return f"{name} ({module})" if module else str(name)


def _refusal(entry: dict, allowed: Allowed) -> str | None:
    """Why this serialised object is not allowed (None when it is)."""
    module, name = entry.get("module"), entry.get("class_name")
    if not isinstance(name, str) or not (module is None or isinstance(module, str)):
        return "a malformed object"
    if name in FUNCTION_CLASSES:
        function = (module, entry.get("config"))
        allowed_function = isinstance(function[1], str) and function in allowed.functions
        return None if allowed_function else _describe(entry)
    if name == "__keras_tensor__" and module is None:
        return None
    if (module, name) in MODELS or (module in (None, "keras.layers") and name in allowed.layers):
        return None
    if module in CONFIG_MODULES and _public_class(module, name):
        return None
    return _describe(entry)


def _walk(value, allowed: Allowed, found: list[str], depth: int = 0) -> None:
    if depth > 200:
        found.append("a configuration nested too deeply")
        return
    if isinstance(value, dict):
        if "class_name" in value:
            problem = _refusal(value, allowed)
            if problem and problem not in found:
                found.append(problem)
        for item in value.values():
            _walk(item, allowed, found, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _walk(item, allowed, found, depth + 1)


def check_saved_model(path: Path, allowed: Allowed) -> None:
    """Raise :class:`RefusedModel` unless the ``.keras`` file holds only what ``allowed`` allows."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            unknown = [
                m.filename
                for m in members
                if m.filename not in ZIP_MEMBERS and not m.filename.startswith("assets/")
            ]
            if unknown:
                raise RefusedModel(f"the file holds more than a Keras model ({unknown[0]})")
            if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
                raise RefusedModel("the file unpacks to more than 1 GB")
            config_info = archive.getinfo("config.json")
            if config_info.file_size > MAX_CONFIG_BYTES:
                raise RefusedModel("its configuration is too large")
            config = json.loads(archive.read(config_info))
    except (zipfile.BadZipFile, KeyError, ValueError, RecursionError, OSError) as exc:
        raise RefusedModel(f"not a Keras model file ({type(exc).__name__})") from None
    found: list[str] = []
    _walk(config, allowed, found)
    if found:
        raise RefusedModel("it uses " + ", ".join(found[:3]) + (" …" if len(found) > 3 else ""))
