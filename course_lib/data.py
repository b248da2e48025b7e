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


def load_mnist():
    """MNIST via Keras (downloads once, or uses an imported copy): ((x, y), (x, y)) uint8."""
    import keras

    return keras.datasets.mnist.load_data()


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
