"""Solution wall time and test accuracy of the classification lessons, over several seeds.

Not a test: a measurement to calibrate the graders' thresholds on the machine at hand.
Each run executes the code cells of ``source/<lesson>/<lesson>.ipynb`` (the reference
solution; grade cells skipped) in this process, with every
``keras.utils.set_random_seed(N)`` replaced by the run's seed, then measures the resulting
models on their test sets: the notebook's own held-out split for 02 and 03, the 10,000
MNIST test digits (through the graders' own functions) for 04-06, the 4,861 test digits 5-9
prepared as the graders prepare them for 07::

    python benchmarks/lesson_accuracy.py 02_classification 05_cnn --seeds 0 1 2 3 4

The time printed is the notebook's cells only (no kernel start-up, no grading): wall time, and
the process's CPU time over all threads (on a shared machine the wall time says little).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TRANSFER_TARGET = "digits 5-9"
# model variable measured -> (test inputs, test labels) variables of the notebook; None = MNIST;
# TRANSFER_TARGET = lesson 07's target test split
MEASURED = {
    "02_classification": {
        "binary_model": ("X_cancer_test", "y_cancer_test"),
        "onehot_model": ("X_wine_test", "y_wine_test"),
        "sparse_model": ("X_wine_test", "y_wine_test"),
    },
    "03_hidden_layers": {
        "linear_model": ("X_test", "y_test"),
        "hidden_model": ("X_test", "y_test"),
    },
    "04_mnist_ann": {"model": None},
    "05_cnn": {"model": None},
    "06_augmentation": {"model_plain": None, "model_augmented": None},
    "07_transfer_learning": {"model_scratch": TRANSFER_TARGET, "model": TRANSFER_TARGET},
}


def solution_cells(lesson: str) -> list[str]:
    import nbformat

    notebook = nbformat.read(ROOT / "source" / lesson / f"{lesson}.ipynb", as_version=4)
    return [
        str(cell.source)
        for cell in notebook.cells
        if cell.cell_type == "code" and not cell.metadata.get("nbgrader", {}).get("grade")
    ]


def run_once(lesson: str, seed: int, workdir: Path) -> tuple[float, float, dict[str, float]]:
    """Wall seconds, CPU seconds (all threads) and test accuracy per measured model."""
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib import data, training_checks, transfer_checks

    cells = [
        re.sub(r"keras\.utils\.set_random_seed\(\d+\)", f"keras.utils.set_random_seed({seed})", c)
        for c in solution_cells(lesson)
    ]
    namespace: dict = {"__name__": "__main__"}
    keras.backend.clear_session()
    previous = Path.cwd()
    os.chdir(workdir)
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for source in cells:
                exec(compile(source, f"<{lesson}>", "exec"), namespace)
                plt.close("all")
    finally:
        os.chdir(previous)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    scores = {}
    for name, test_set in MEASURED[lesson].items():
        if test_set is None:
            _, (x_test, y_test) = data.load_mnist()
            scores[name] = training_checks.accuracy(namespace[name], x_test, y_test)
        elif test_set == TRANSFER_TARGET:
            target = data.load_transfer_target()
            scores[name] = transfer_checks.accuracy(namespace[name], target.x_test, target.y_test)
        else:
            x_test, y_test = (namespace[variable] for variable in test_set)
            scores[name] = labelled_accuracy(namespace[name], x_test, y_test)
    return seconds, cpu_seconds, scores


def labelled_accuracy(model, x_test, y_test) -> float:
    """Test accuracy of a sigmoid (one output) or softmax (one output per class) model."""
    import numpy as np

    probabilities = model.predict(x_test, verbose=0)
    if probabilities.shape[1] == 1:
        predicted = (probabilities.ravel() > 0.5).astype(int)
    else:
        predicted = probabilities.argmax(axis=1)
    return float((predicted == np.asarray(y_test)).mean())


def summary(values: list[float]) -> str:
    return f"min {min(values):.4f}  median {statistics.median(values):.4f}  max {max(values):.4f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", default=list(MEASURED), help="lesson ids")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    args = parser.parse_args(argv)
    import tempfile

    for lesson in args.lessons:
        times: list[float] = []
        scores: dict[str, list[float]] = {name: [] for name in MEASURED[lesson]}
        for seed in args.seeds:
            with tempfile.TemporaryDirectory(prefix="lesson-bench-") as tmp:
                seconds, cpu_seconds, result = run_once(lesson, seed, Path(tmp))
            times.append(seconds)
            for name, value in result.items():
                scores[name].append(value)
            shown = "  ".join(f"{name} {value:.4f}" for name, value in result.items())
            print(
                f"{lesson}  seed {seed}: {seconds:6.1f} s ({cpu_seconds:6.1f} s CPU)  {shown}",
                flush=True,
            )
        print(
            f"{lesson}  time (s): min {min(times):.1f}  median {statistics.median(times):.1f}"
            f"  max {max(times):.1f}"
        )
        for name, values in scores.items():
            print(f"{lesson}  {name} test accuracy: {summary(values)}")
        if len(scores) == 2:
            gains = [b - a for a, b in zip(*scores.values(), strict=True)]
            print(f"{lesson}  gain (second - first): {summary(gains)}")
        print(flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
