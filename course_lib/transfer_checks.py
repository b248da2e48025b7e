"""Checks about transfer learning on :mod:`course_lib.pretrained`'s network (lesson 07).

Used by the hidden graders and the self-check cells alike; every failure is a
:class:`~course_lib.checks.CheckFailure` whose first line names the problem. A model is read
as three parts (:func:`split_model`): the pretrained base's layers (``block1_conv1`` …
``block3_pool``), what is left of the base's classifier top (``top_…``), and the student's own
head. Graders never reuse the student's arrays to measure a model: :func:`model_inputs`
turns the grader's own raw 28 × 28 grey images into the 32 × 32 × 3 images the network was
trained on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from course_lib import checks, inspection, pretrained
from course_lib.checks import CheckFailure

PAD = 2
"""Black pixels added on every side: 28 × 28 → 32 × 32."""
SIZE = 28 + 2 * PAD

BASE_LAYERS = tuple(
    f"block{block}_{part}"
    for block in range(1, len(pretrained.BLOCK_FILTERS) + 1)
    for part in ("conv1", "conv2", "pool")
)
"""The pretrained base's layers, in order (``include_top=False`` ends with ``block3_pool``)."""
FINE_TUNED_BLOCK = "block3"
"""The top block, the one unfrozen for fine-tuning."""
FEATURE_SHAPE = (SIZE // 8, SIZE // 8, pretrained.BLOCK_FILTERS[-1])
"""What the base without its top gives for one image: (4, 4, 64)."""
HEAD_POOLING = ("Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D")
PREPROCESSING = ("Rescaling",)


def base_input(images) -> np.ndarray:
    """Raw ``(n, 28, 28)`` uint8 grey images as the pretrained network expects them.

    Padded with 2 black pixels on every side to 32 × 32, the grey channel repeated as
    R, G and B, scaled to [0, 1] as float32: ``(n, 32, 32, 3)``.
    """
    images = np.asarray(images)
    padded = np.pad(images, ((0, 0), (PAD, PAD), (PAD, PAD)))
    return pretrained.preprocess_input(np.repeat(padded[..., np.newaxis], 3, axis=-1))


# --- the images ---------------------------------------------------------------------------------


def check_base_input(name: str, value, raw) -> np.ndarray:
    """``value`` is ``raw`` (n grey 28 × 28 images) as the network's 32 × 32 × 3 input."""
    __tracebackhide__ = True
    raw = np.asarray(raw)
    n = len(raw)
    try:
        array = np.asarray(value)
    except Exception:
        raise CheckFailure(f"`{name}`: not an array", found=type(value).__name__) from None
    wanted = (n, SIZE, SIZE, 3)
    if array.shape != wanted:
        raise _shape_failure(name, array.shape, wanted)
    if array.dtype.kind not in "fiu":
        raise CheckFailure(f"`{name}`: not numbers", found=f"dtype {array.dtype}")
    values = array.astype("float64")
    if not np.all(np.isfinite(values)):
        raise CheckFailure(f"`{name}`: contains NaN or infinite values")
    spread = float(np.abs(values - values[..., :1]).max(initial=0.0))
    if spread > 1e-6:
        raise CheckFailure(
            f"`{name}`: the three channels differ",
            expected="R = G = B = the grey value, for every pixel",
            found=f"channels differing by up to {spread:.3g}",
            hint="a grey image has one value per pixel: repeat that same value in all three "
            "channels (np.repeat(x[..., np.newaxis], 3, axis=-1))",
        )
    expected = base_input(raw).astype("float64")
    low, high = float(values.min()), float(values.max())
    if high > 1.0 + 1e-6:
        raise CheckFailure(
            f"`{name}`: pixels not scaled to [0, 1]",
            expected="values from 0.0 to 1.0, as pretrained.preprocess_input returns them",
            found=f"values from {low:.3g} to {high:.3g}",
            hint="the network was trained on pixels divided by 255: prepare yours the same way",
        )
    if float(np.abs(values - expected).max(initial=0.0)) > 1e-5:
        raise CheckFailure(
            f"`{name}`: not the padded images",
            expected="each 28 × 28 digit in the middle of a 32 × 32 frame, with 2 black pixels "
            "on every side",
            found="pixel values that differ from the padded, scaled images",
            hint="pad with np.pad(x, ((0, 0), (2, 2), (2, 2))): the network was trained on "
            "digits framed exactly like that (resizing would stretch them)",
        )
    if array.dtype != np.float32:
        raise CheckFailure(
            f"`{name}`: wrong dtype",
            expected="float32 (what Keras computes in)",
            found=str(array.dtype),
            hint='add .astype("float32")',
        )
    return array


def _shape_failure(name: str, shape: tuple, wanted: tuple) -> CheckFailure:
    n = wanted[0]
    found = str(shape)
    if shape in ((n, SIZE, SIZE), (n, SIZE, SIZE, 1), (n, 28, 28), (n, 28, 28, 1)):
        return CheckFailure(
            f"`{name}`: 1 channel, the network needs 3",
            expected=f"{wanted}: height, width and 3 channels (R, G, B)",
            found=found,
            hint="the pretrained network was trained on colour images, 3 numbers per pixel: "
            "repeat the grey value in all three channels, "
            "np.repeat(x[..., np.newaxis], 3, axis=-1)",
        )
    if shape == (n, 28, 28, 3):
        return CheckFailure(
            f"`{name}`: 28 × 28 images, the network needs 32 × 32",
            expected=str(wanted),
            found=found,
            hint="pad 2 black pixels on every side: np.pad(x, ((0, 0), (2, 2), (2, 2)))",
        )
    if shape in ((n, 3, SIZE, SIZE), (3, n, SIZE, SIZE)):
        return CheckFailure(
            f"`{name}`: channels in the wrong place",
            expected=f"{wanted}: Keras puts the channels last",
            found=found,
            hint="stack the channels on the last axis (axis=-1)",
        )
    return CheckFailure(
        f"`{name}`: wrong shape",
        expected=f"{wanted}: one 32 × 32 × 3 image per digit",
        found=found,
    )


# --- the model's parts ----------------------------------------------------------------------------


@dataclass
class Parts:
    """A model's layers sorted into the pretrained base, what is left of its top, and the rest."""

    base: list = field(default_factory=list)
    top: list = field(default_factory=list)
    before: list = field(default_factory=list)
    head: list = field(default_factory=list)


@dataclass(frozen=True)
class _Layers:
    """A list of layers that :func:`inspection.layer_records` can read like a model."""

    layers: list


def split_model(model) -> Parts:
    """The model's layers (nested models opened): base, top, layers before the base, head."""
    parts = Parts()
    for layer in inspection.flat_layers(model):
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        if layer.name in BASE_LAYERS:
            parts.base.append(layer)
        elif layer.name.startswith(pretrained.TOP_PREFIX):
            parts.top.append(layer)
        elif not parts.base:
            parts.before.append(layer)
        else:
            parts.head.append(layer)
    return parts


def layer_params(layers) -> int:
    """All parameters of these layers, counted from their weights."""
    return int(sum(int(np.prod(w.shape)) for layer in layers for w in layer.weights))


def trainable_params(model) -> int:
    """The parameters ``fit`` would change: those of the trainable weights."""
    return int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))


def check_has_base(model, *, what: str = "model") -> Parts:
    """The model is built on the whole pretrained base (whether or not its top is still on)."""
    __tracebackhide__ = True
    parts = split_model(model)
    names = [layer.name for layer in parts.base]
    if not names:
        raise CheckFailure(
            f"`{what}`: the pretrained base is missing",
            expected="the layers block1_conv1 … block3_pool of pretrained.MiniVGG",
            found=", ".join(layer.name for layer in parts.before + parts.head) or "no layers",
            hint='load it with pretrained.MiniVGG(include_top=False, weights="digits-0-4")',
        )
    if names != list(BASE_LAYERS):
        missing = [name for name in BASE_LAYERS if name not in names]
        raise CheckFailure(
            f"`{what}`: the pretrained base is incomplete",
            expected=", ".join(BASE_LAYERS),
            found=", ".join(names) + (f" (missing: {', '.join(missing)})" if missing else ""),
            hint="use the whole base as MiniVGG returns it",
        )
    return parts


def check_pretrained_base(model, *, what: str = "model") -> Parts:
    """The model is built on the whole pretrained base, with the base's top removed."""
    __tracebackhide__ = True
    parts = check_has_base(model, what=what)
    if parts.top:
        raise CheckFailure(
            f"`{what}`: the base's top is still there",
            expected="include_top=False: the base ends with block3_pool, "
            f"a {FEATURE_SHAPE} feature map per image",
            found=", ".join(layer.name for layer in parts.top)
            + f": the classifier of the source task (the {pretrained.SOURCE_CLASSES} digits 0-4)",
            hint="the top answers the old question; cut it off with include_top=False and put "
            "your own head for the new classes in its place",
        )
    return parts


def check_input_shape(model, *, what: str = "model") -> None:
    __tracebackhide__ = True
    shape = inspection.input_shape(model)
    if shape != pretrained.INPUT_SHAPE:
        raise CheckFailure(
            f"`{what}`: wrong input shape",
            expected=f"keras.Input(shape={pretrained.INPUT_SHAPE})",
            found="no input shape (the model was never built)"
            if shape is None
            else f"keras.Input(shape={shape})",
            hint="the pretrained network takes 32 × 32 images with 3 channels",
        )


# --- the head -------------------------------------------------------------------------------------


def expected_head(found, n_classes: int) -> list[inspection.LayerRecord]:
    """Flatten (or a global pooling), Dropout, Dense(n_classes, softmax)."""
    first = found[0].type if found and found[0].type in HEAD_POOLING else "Flatten"
    return [
        inspection.LayerRecord(first),
        inspection.LayerRecord("Dropout"),
        inspection.LayerRecord("Dense", units=n_classes, activation="softmax"),
    ]


HEAD_HINTS = {
    "missing": 'the head is Flatten() → Dropout(0.3) → Dense(5, activation="softmax"), '
    "right after the base",
    "extra": "the head has three layers: Flatten, Dropout and the output layer",
    "units": "one output per new class: the 5 digits 5-9",
    "activation": "softmax turns the 5 scores into probabilities that add up to 1, which "
    "sparse_categorical_crossentropy expects",
    "type": 'the head is Flatten() → Dropout(0.3) → Dense(5, activation="softmax")',
}


def check_head(model, *, n_classes: int = 5, what: str = "model") -> None:
    """After the base: Flatten (or global pooling), Dropout, Dense(n_classes, softmax)."""
    __tracebackhide__ = True
    parts = check_has_base(model, what=what)
    stray = [layer for layer in parts.before if type(layer).__name__ not in PREPROCESSING]
    if stray:
        raise CheckFailure(
            f"`{what}`: a layer before the pretrained base",
            expected="the images go straight into the base",
            found=", ".join(f"{type(layer).__name__} ({layer.name})" for layer in stray),
            hint="the base was trained on the images themselves; add new layers after it",
        )
    found = inspection.layer_records(_Layers(parts.head))
    checks.raise_first_difference(
        inspection.diff_layers(expected_head(found, n_classes), found), HEAD_HINTS
    )
    rate = found[1].rate or 0.0
    if not 0.05 <= rate <= 0.6:
        raise CheckFailure(
            "head: Dropout rate out of range",
            expected="Dropout(0.3) (a rate between 0.05 and 0.6)",
            found=f"Dropout({rate})",
            hint="the rate is the fraction of features zeroed at each training step",
        )


# --- frozen, then fine-tuned ----------------------------------------------------------------------


def _weights_differ(layer, reference) -> float:
    """The largest change of any weight of ``layer`` from the same layer of ``reference``."""
    change = 0.0
    for mine, theirs in zip(layer.get_weights(), reference.get_weights(), strict=True):
        change = max(change, float(np.abs(np.asarray(mine) - np.asarray(theirs)).max(initial=0.0)))
    return change


def _by_name(layers) -> dict:
    return {layer.name: layer for layer in layers}


def check_base_frozen(model, pretrained_base, *, what: str = "model_head") -> None:
    """Only the head is trainable, and the base still holds exactly the pretrained weights."""
    __tracebackhide__ = True
    parts = check_has_base(model, what=what)
    head = layer_params(parts.before + parts.head)
    trainable = trainable_params(model)
    if trainable > head:
        raise CheckFailure(
            f"`{what}`: the base is not frozen",
            expected=f"{head:,} trainable parameters: only the head's",
            found=f"{trainable:,} trainable parameters (the base's among them)",
            hint="set base.trainable = False before you compile and train: with a few hundred "
            "images, training the whole network would overwrite what it learned before",
        )
    if trainable < head:
        raise CheckFailure(
            f"`{what}`: part of the head is frozen",
            expected=f"{head:,} trainable parameters: the head's",
            found=f"{trainable:,} trainable parameters",
            hint="freeze the base only: the new head must learn",
        )
    reference = _by_name(inspection.flat_layers(pretrained_base))
    changed = [
        layer.name
        for layer in parts.base
        if layer.weights and _weights_differ(layer, reference[layer.name]) > 1e-6
    ]
    if changed:
        raise CheckFailure(
            f"`{what}`: the base's weights changed while the head was trained",
            expected="the pretrained weights, untouched",
            found="changed: " + ", ".join(changed),
            hint="freeze the base (base.trainable = False) before compile and fit, not after",
        )


def learning_rate(model) -> float:
    """The (initial) learning rate the model was last compiled with; NaN if unknown."""
    settings = inspection.compile_settings(model)
    value = (settings.optimizer_config if settings else {}).get("learning_rate")
    if isinstance(value, dict):  # a schedule: its starting value
        value = (value.get("config") or {}).get("initial_learning_rate")
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def check_fine_tuned(
    model, before, *, max_learning_rate: float, what: str = "model", before_name: str = "model_head"
) -> None:
    """Only the top block is unfrozen, trained with a small step; blocks 1-2 kept as ``before``."""
    __tracebackhide__ = True
    parts = check_has_base(model, what=what)
    convs = [layer for layer in parts.base if layer.weights]
    unfrozen = [layer.name for layer in convs if layer.trainable]
    wanted = [layer.name for layer in convs if layer.name.startswith(FINE_TUNED_BLOCK)]
    if unfrozen != wanted:
        extra = [name for name in unfrozen if name not in wanted]
        raise CheckFailure(
            f"`{what}`: "
            + (
                "more than the top block is unfrozen"
                if extra
                else "the top block is not unfrozen"
                if not unfrozen or set(unfrozen) < set(wanted)
                else "wrong layers unfrozen"
            ),
            expected="trainable: " + ", ".join(wanted) + " (block 3), and the head",
            found="trainable: " + (", ".join(unfrozen) or "no layer of the base"),
            hint="set base.trainable = True, then trainable = False again for every layer "
            "whose name does not start with block3: the early blocks' edges and strokes are "
            "useful as they are",
        )
    frozen_head = [layer.name for layer in parts.head if layer.weights and not layer.trainable]
    if frozen_head:
        raise CheckFailure(
            f"`{what}`: the head is frozen",
            expected="the head trainable during fine-tuning",
            found="frozen: " + ", ".join(frozen_head),
        )
    rate = learning_rate(model)
    if not rate <= max_learning_rate * (1 + 1e-5):
        raise CheckFailure(
            f"`{what}`: fine-tuning learning rate too large",
            expected=f"keras.optimizers.Adam(learning_rate) with a rate of at most "
            f"{max_learning_rate:g}",
            found=f"learning_rate={rate:.3g}",
            hint="large steps would wreck the pretrained weights in a few updates: fine-tune "
            "with a learning rate about 10 times smaller than the head's",
        )
    earlier = _by_name(split_model(before).base)
    changed = [
        layer.name
        for layer in convs
        if layer.name not in wanted
        and layer.name in earlier
        and _weights_differ(layer, earlier[layer.name]) > 1e-6
    ]
    if changed:
        raise CheckFailure(
            f"`{what}`: blocks 1 and 2 changed during fine-tuning",
            expected=f"the weights of blocks 1 and 2 as in `{before_name}`",
            found="changed: " + ", ".join(changed),
            hint="keep every layer outside block 3 frozen while fine-tuning",
        )
    moved = [
        layer.name
        for layer in convs
        if layer.name in wanted
        and layer.name in earlier
        and _weights_differ(layer, earlier[layer.name]) > 1e-7
    ]
    if not moved:
        raise CheckFailure(
            f"`{what}`: block 3 did not train",
            expected=f"block 3's weights changed by fine-tuning (compared with `{before_name}`)",
            found="block 3 exactly as before fine-tuning",
            hint="after changing trainable, compile the model again, then fit it",
        )


def check_starts_untrained(model, pretrained_base, *, what: str = "model_scratch") -> None:
    """Every layer trainable, and the first convolution not grown from the pretrained one."""
    __tracebackhide__ = True
    total = inspection.count_params(model)
    trainable = trainable_params(model)
    if trainable != total:
        raise CheckFailure(
            f"`{what}`: part of it is frozen",
            expected=f"all {total:,} parameters trainable",
            found=f"{trainable:,} trainable",
            hint="from scratch means every weight learns: freeze nothing",
        )
    first = _by_name(split_model(model).base).get(BASE_LAYERS[0])
    reference = _by_name(inspection.flat_layers(pretrained_base))[BASE_LAYERS[0]]
    if first is not None and _similarity(first, reference) > 0.8:
        raise CheckFailure(
            f"`{what}`: starts from the pretrained weights",
            expected="pretrained.MiniVGG(include_top=False, weights=None): random initial weights",
            found="block1_conv1's filters are the pretrained ones, slightly changed",
            hint="the comparison needs the same network without what it learned before",
        )


def _similarity(layer, reference) -> float:
    """Cosine similarity of two layers' kernels: about 0 for independent random starts."""
    mine = np.asarray(layer.get_weights()[0], dtype="float64").ravel()
    theirs = np.asarray(reference.get_weights()[0], dtype="float64").ravel()
    norm = float(np.linalg.norm(mine) * np.linalg.norm(theirs))
    return float(mine @ theirs) / norm if norm else 0.0


def check_same_network(model, other, *, name: str = "model", other_name: str = "model_scratch"):
    """``other`` has the same base and head as ``model``, and no top where ``model`` has none.

    A top left on ``model`` itself is :func:`check_pretrained_base`'s to report.
    """
    __tracebackhide__ = True
    mine, theirs = check_has_base(model, what=name), check_has_base(other, what=other_name)
    hint = f"build {other_name} exactly like {name}: the same base and the same head"
    if theirs.top and not mine.top:
        raise CheckFailure(
            f"`{other_name}`: the base's top is still there",
            expected=f"the same network as `{name}`: a base ending with block3_pool, then the head",
            found=", ".join(layer.name for layer in theirs.top) + " between the base and the head",
            hint=f"build {other_name}'s base with pretrained.MiniVGG(include_top=False, "
            "weights=None)",
        )
    checks.raise_first_difference(
        inspection.diff_layers(
            inspection.layer_records(_Layers(mine.base + mine.head)),
            inspection.layer_records(_Layers(theirs.base + theirs.head)),
        ),
        {"missing": hint, "extra": hint, "type": hint},
    )


def check_trained_as_long(scratch_fit, transfer_fits, *, what: str = "history_scratch") -> None:
    """The network from scratch trained for as many epochs as the transfer's phases together.

    Epochs are counted in the recorded losses, so ``initial_epoch`` spellings count right.
    """
    __tracebackhide__ = True
    phases = [len(fit.values("loss")) for fit in transfer_fits]
    found = len(scratch_fit.values("loss"))
    if found != sum(phases):
        raise CheckFailure(
            f"`{what}`: not as many epochs as the transfer",
            expected=f"{sum(phases)} epochs: "
            + " + ".join(map(str, phases))
            + ", the transfer's phases together (epochs_head + epochs_fine)",
            found=f"{found} epochs",
            hint="the comparison is fair only when both networks see the same images as often",
        )


# --- measuring ------------------------------------------------------------------------------------


def model_inputs(model, images) -> np.ndarray:
    """The grader's raw ``(n, 28, 28)`` images as ``model`` takes them (0-255 after Rescaling)."""
    __tracebackhide__ = True
    check_input_shape(model)
    x = base_input(images)
    if any(type(layer).__name__ == "Rescaling" for layer in split_model(model).before):
        x = x * 255.0
    return x


def accuracy(model, images, labels, *, n_classes: int = 5) -> float:
    """Fraction of the grader's raw ``images`` the model labels correctly."""
    __tracebackhide__ = True
    x = model_inputs(model, images)
    try:
        probabilities = np.asarray(model.predict(x, batch_size=500, verbose=0), dtype="float64")
    except Exception as exc:
        raise CheckFailure(
            "the model cannot predict on the test images",
            expected=f"input of shape (None, {', '.join(str(s) for s in x.shape[1:])})",
            found=f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}",
        ) from None
    if probabilities.ndim != 2 or probabilities.shape[1] != n_classes:
        raise CheckFailure(
            "test accuracy: wrong output shape",
            expected=f"{n_classes} class probabilities per image: (None, {n_classes})",
            found=f"{probabilities.shape[1:]} per image",
        )
    return float((probabilities.argmax(axis=1) == np.asarray(labels)).mean())
