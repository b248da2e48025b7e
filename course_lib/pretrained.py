"""The course's own pretrained network, loaded the way ``keras.applications`` loads theirs.

``keras.applications.VGG16(include_top=False, weights="imagenet")`` downloads a network
trained on ImageNet. This course runs offline on two CPU cores, so it ships a network of
its own instead: :func:`MiniVGG`, a VGG-style convolutional network (three blocks of two
3 × 3 convolutions and a 2 × 2 max pooling, then a classifier "top"), trained on the MNIST
digits 0-4 as 32 × 32 × 3 images by :mod:`course_lib.admin.pretrain`. Its weights file
travels with this package and is checked against its SHA-256 before it is loaded; nothing
is downloaded.

The arguments mean what they mean in ``keras.applications``: ``include_top``,
``weights`` (``None`` for random initial weights, the name of the shipped weights, or a
path to a ``.weights.h5`` file), ``input_shape`` and ``classes``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

DIGITS_0_4 = "digits-0-4"
"""The shipped weights: trained on the MNIST training digits 0-4 (labels 0-4)."""

WEIGHTS = {
    DIGITS_0_4: (
        "mini_vgg_digits_0_4.weights.h5",
        "6020baf4c610c1c5b15f05aa42344232cada5aca9cee938c7fc6fb7219b94cb4",
    ),
}
"""Shipped weights: name → (file in ``WEIGHTS_DIR``, SHA-256)."""

INPUT_SHAPE = (32, 32, 3)
SOURCE_CLASSES = 5
BLOCK_FILTERS = (16, 32, 64)
TOP_UNITS = 64
TOP_PREFIX = "top_"
"""Every layer of the classifier top is named ``top_…``; ``include_top=False`` drops them."""


def preprocess_input(images) -> np.ndarray:
    """RGB images with values 0-255, as the network expects them: float32 in [0, 1].

    Every ``keras.applications`` module has its own ``preprocess_input``; use the one of the
    network you load, because it was trained on inputs prepared exactly that way.
    """
    return np.asarray(images, dtype="float32") / 255.0


def weights_file(name: str = DIGITS_0_4) -> Path:
    """The shipped weights file ``name``, after checking its SHA-256."""
    if name not in WEIGHTS:
        known = ", ".join(repr(k) for k in WEIGHTS)
        raise ValueError(f"unknown weights {name!r}: use None, {known} or a path to a file")
    filename, expected = WEIGHTS[name]
    path = WEIGHTS_DIR / filename
    if not path.is_file():
        raise FileNotFoundError(f"the weights file {path} is missing: reinstall course_lib")
    found = sha256_of(path)
    if found != expected:
        raise ValueError(
            f"the weights file {path} is damaged: SHA-256 {found[:12]}… instead of {expected[:12]}…"
        )
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# Named like the keras.applications functions it imitates (VGG16, MobileNetV3Small, ...).
def MiniVGG(
    include_top: bool = True,
    weights: str | Path | None = DIGITS_0_4,
    input_shape: tuple[int, int, int] | None = None,
    classes: int = SOURCE_CLASSES,
    name: str = "mini_vgg",
):
    """A VGG-style network for 32 × 32 × 3 images, pretrained on the MNIST digits 0-4.

    * ``include_top=True``: the whole network, ending in the source task's classifier
      (``top_flatten``, ``top_fc1``, ``top_dropout``, ``top_predictions``: 5 probabilities).
    * ``include_top=False``: only the convolutional base, ``block1_conv1`` … ``block3_pool``;
      its output is a ``(4, 4, 64)`` feature map for each image.
    * ``weights``: ``"digits-0-4"`` (the course's pretrained weights), ``None`` (random
      initial weights: the same network, untrained) or the path to a ``.weights.h5`` file
      of this network.

    Pretrained weights need 3 input channels and 32 × 32 images, like the images the
    network was trained on.
    """
    import keras
    from keras import layers

    shape = tuple(input_shape) if input_shape is not None else INPUT_SHAPE
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels); received {shape}")
    if weights is not None:
        if shape[-1] != 3:
            raise ValueError(
                "pretrained weights need input with 3 channels (R, G, B); "
                f"received input_shape={shape}: repeat a grey image's channel 3 times"
            )
        if shape != INPUT_SHAPE:
            raise ValueError(
                f"pretrained weights need input_shape={INPUT_SHAPE}, the size the network was "
                f"trained on; received input_shape={shape}"
            )
        if classes != SOURCE_CLASSES:
            raise ValueError(
                f"pretrained weights come with a top of {SOURCE_CLASSES} classes; for another "
                "number of classes use include_top=False and add your own head"
            )
    path = _weights_path(weights)

    inputs = keras.Input(shape=shape, name="input")
    x = inputs
    for block, filters in enumerate(BLOCK_FILTERS, start=1):
        for conv in (1, 2):
            x = layers.Conv2D(
                filters, (3, 3), padding="same", activation="relu", name=f"block{block}_conv{conv}"
            )(x)
        x = layers.MaxPooling2D((2, 2), name=f"block{block}_pool")(x)
    features = x
    x = layers.Flatten(name=f"{TOP_PREFIX}flatten")(x)
    x = layers.Dense(TOP_UNITS, activation="relu", name=f"{TOP_PREFIX}fc1")(x)
    x = layers.Dropout(0.5, name=f"{TOP_PREFIX}dropout")(x)
    outputs = layers.Dense(classes, activation="softmax", name=f"{TOP_PREFIX}predictions")(x)
    full = keras.Model(inputs, outputs, name=name)
    if path is not None:
        full.load_weights(path)
    if include_top:
        return full
    return keras.Model(inputs, features, name=name)


def _weights_path(weights) -> Path | None:
    if weights is None:
        return None
    if isinstance(weights, str) and weights in WEIGHTS:
        return weights_file(weights)
    path = Path(weights)
    if path.suffixes[-2:] != [".weights", ".h5"] or not path.is_file():
        known = ", ".join(repr(k) for k in WEIGHTS)
        raise ValueError(
            f"weights must be None, {known} or the path to a .weights.h5 file; received {weights!r}"
        )
    return path
