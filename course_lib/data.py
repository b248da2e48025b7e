"""Course datasets: fixed splits of real data that students and graders load alike.

Students and graders load data through the same functions, so a grader knows exactly
which rows were the training and the test split without trusting the notebook. Keras's
own datasets (MNIST) come through Keras; an offline lab imports their files once with
``course data import`` (:mod:`course_lib.admin.datasets`).

Files a lesson writes (a saved model, say) go to :func:`scratch_dir`, outside the course
folder, so a run never leaves artefacts where they would be released or graded.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SPLIT_SEED = 42


@dataclass(frozen=True)
class Split:
    """Features and targets of a fixed train/test split."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...] = ()


def _split(X, y, test_size: float, stratify: bool, names=()) -> Split:
    from sklearn.model_selection import train_test_split

    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=SPLIT_SEED, stratify=y if stratify else None
    )
    return Split(X_train.astype("float32"), X_test.astype("float32"), y_train, y_test, tuple(names))


def load_diabetes_split() -> Split:
    """scikit-learn's diabetes data (442 patients, 10 features): 80 % train, 20 % test."""
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes()
    return _split(bunch.data, bunch.target.astype("float32"), 0.2, False, bunch.feature_names)


def load_breast_cancer_split() -> Split:
    """scikit-learn's breast-cancer data (569 tumours, 30 features, 0/1): stratified 80/20."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    return _split(bunch.data, bunch.target.astype("int64"), 0.2, True, bunch.feature_names)


def load_wine_split() -> Split:
    """scikit-learn's wine data (178 wines, 13 features, 3 classes): stratified 75/25."""
    from sklearn.datasets import load_wine

    bunch = load_wine()
    return _split(bunch.data, bunch.target.astype("int64"), 0.25, True, bunch.feature_names)


def load_moons_split(n_samples: int = 1000, noise: float = 0.2) -> Split:
    """Two interleaving half-moons (not linearly separable): 75/25."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=SPLIT_SEED)
    return _split(X, y.astype("int64"), 0.25, True, ("x1", "x2"))


_kept: dict | None = None
"""Datasets kept loaded in this process (see :func:`keep_loaded`); None: load every time."""


def keep_loaded() -> None:
    """From now on, load MNIST once in this process and hand out that copy, read-only.

    For the graders' process, whose tests read the same digits several times and which loads
    them while the notebook still runs; a notebook's kernel never calls it, so students get
    arrays of their own that they may change.
    """
    global _kept
    if _kept is None:
        _kept = {}


def load_mnist():
    """MNIST via Keras (downloads once, or uses an imported copy): ((x, y), (x, y)) uint8."""
    import keras

    if _kept is None:
        return keras.datasets.mnist.load_data()
    if "mnist" not in _kept:
        splits = keras.datasets.mnist.load_data()
        for x, y in splits:
            x.setflags(write=False)
            y.setflags(write=False)
        _kept["mnist"] = splits
    return _kept["mnist"]


SOURCE_DIGITS = (0, 1, 2, 3, 4)
"""The digits :mod:`course_lib.pretrained`'s network was trained on (lesson 07)."""
TARGET_DIGITS = (5, 6, 7, 8, 9)
"""The digits lesson 07 teaches that network to tell apart, from a few labelled images."""


@dataclass(frozen=True)
class DigitClasses:
    """MNIST restricted to some digits, relabelled ``0 … k-1`` in the order the digits are given.

    Images are the raw ``(n, 28, 28)`` uint8 pictures; ``x_val`` is empty unless asked for.
    """

    digits: tuple[int, ...]
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(str(d) for d in self.digits)


def load_digit_classes(
    digits, n_train_per_class: int | None = None, n_val_per_class: int = 0
) -> DigitClasses:
    """MNIST images of ``digits`` only, labelled 0 for ``digits[0]``, 1 for ``digits[1]``, …

    Training images: the first ``n_train_per_class`` training images of each digit (all of
    them if ``None``); validation: the next ``n_val_per_class`` of each digit; test: every
    test image of those digits. Images keep MNIST's order.
    """
    digits = tuple(int(d) for d in digits)
    (x_train, y_train), (x_test, y_test) = load_mnist()
    label = np.full(10, -1, dtype="int64")
    label[list(digits)] = np.arange(len(digits))
    train, val = [], []
    for digit in digits:
        rows = np.flatnonzero(y_train == digit)
        stop = len(rows) if n_train_per_class is None else n_train_per_class
        train.append(rows[:stop])
        val.append(rows[stop : stop + n_val_per_class])
    train_rows, val_rows = np.sort(np.concatenate(train)), np.sort(np.concatenate(val))
    test_rows = np.flatnonzero(np.isin(y_test, digits))
    return DigitClasses(
        digits,
        x_train[train_rows],
        label[y_train[train_rows]],
        x_train[val_rows],
        label[y_train[val_rows]],
        x_test[test_rows],
        label[y_test[test_rows]],
    )


def load_transfer_source() -> DigitClasses:
    """Lesson 07's source task: every MNIST image of the digits 0-4."""
    return load_digit_classes(SOURCE_DIGITS)


def load_transfer_target() -> DigitClasses:
    """Lesson 07's target task, digits 5-9: 20 labelled training images per digit,
    50 more per digit for validation curves, and all 4,861 test images of those digits."""
    return load_digit_classes(TARGET_DIGITS, n_train_per_class=20, n_val_per_class=50)


def scratch_dir(lesson: str) -> Path:
    """The folder where ``lesson`` writes its files: ``~/.cache/keras-course/<lesson>``.

    ``$XDG_CACHE_HOME`` replaces ``~/.cache`` when set. The folder is created if needed;
    it is the user's own (under grading, the grader's private working folder).
    """
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", lesson):
        raise ValueError(f"not a lesson name: {lesson!r}")
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    folder = Path(cache) / "keras-course" / lesson
    folder.mkdir(parents=True, exist_ok=True)
    return folder
