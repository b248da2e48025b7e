"""Calibrate a lesson's quality thresholds on its reference solution, over several seeds.

``course calibrate LESSON --seeds N`` fills the released notebook with the solution, sets
every ``keras.utils.set_random_seed(...)`` to one seed per run, and executes the runs in
parallel, each in the same confined kernel grading uses. Every run's hand-in is measured
with the grader's own ``measure_<metric>`` functions (in worker processes that import
TensorFlow once: warm), then each metric's threshold follows from the worst seed and the
margin the grader declares (:class:`~course_lib.grader.calibration.Bound`). The record,
``autograder/calibration/<lesson>.json``, keeps every figure, the margin in words and the
threshold the graders read.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import json
import multiprocessing
import os
import platform
import re
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import nbformat

from course_lib.admin.mutation import mutant_notebook
from course_lib.grader import calibration
from course_lib.grader.course import Course
from course_lib.grader.settings import Limits

SEED_CALL = re.compile(r"(keras\.utils\.set_random_seed\()\s*\d+\s*(\))")


@dataclass
class SeedRun:
    """One execution of the solution: its seed, measured metrics and how long it took."""

    seed: int
    values: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    problem: str | None = None


@dataclass
class Calibration:
    """The figures of every seed and the thresholds they give."""

    lesson: str
    runs: list[SeedRun]
    bounds: dict[str, calibration.Bound]

    @property
    def failed(self) -> list[SeedRun]:
        return [run for run in self.runs if run.problem]

    def values(self, metric: str) -> list[float]:
        return [run.values[metric] for run in self.runs if metric in run.values]

    def record(self) -> dict:
        metrics = {}
        for metric, bound in self.bounds.items():
            values = self.values(metric)
            metrics[metric] = {
                "direction": bound.direction,
                "values": [round(v, 6) for v in values],
                "min": round(min(values), 6),
                "median": round(statistics.median(values), 6),
                "max": round(max(values), 6),
                "worst": round(bound.worst(values), 6),
                "margin": bound.describe(),
                "threshold": bound.threshold(values),
            }
        seconds = [run.seconds for run in self.runs]
        return {
            "format": calibration.FORMAT,
            "lesson": self.lesson,
            "seeds": [run.seed for run in self.runs],
            "measured": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python "
            f"{platform.python_version()}, Keras {version('keras')}, "
            f"TensorFlow {version('tensorflow-cpu')}",
            "notebook_seconds": {
                "min": round(min(seconds), 1),
                "median": round(statistics.median(seconds), 1),
                "max": round(max(seconds), 1),
            },
            "runs": [{"seed": run.seed, "seconds": run.seconds} for run in self.runs],
            "metrics": metrics,
        }

    def render(self) -> str:
        lines = [f"{self.lesson}: {len(self.runs)} seed(s)"]
        for run in self.runs:
            shown = "  ".join(f"{m} {v:.4f}" for m, v in run.values.items())
            lines.append(
                f"  seed {run.seed:>3}: {run.seconds:6.1f} s  "
                + (f"FAILED: {run.problem}" if run.problem else shown)
            )
        if self.failed:
            return "\n".join(lines)
        record = self.record()
        lines.append(f"  {'metric':<20} {'min':>8} {'median':>8} {'max':>8} {'threshold':>10}")
        for metric, figures in record["metrics"].items():
            lines.append(
                f"  {metric:<20} {figures['min']:>8.4f} {figures['median']:>8.4f} "
                f"{figures['max']:>8.4f} {figures['direction'].replace('_', ' '):>9} "
                f"{figures['threshold']:g}   margin: {figures['margin']}"
            )
        return "\n".join(lines)


def seeded_notebook(course: Course, lesson: str, seed: int) -> nbformat.NotebookNode:
    """The release filled in with the solution, every ``set_random_seed(k)`` set to ``seed``."""
    notebook = mutant_notebook(course, lesson, None)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = SEED_CALL.sub(rf"\g<1>{seed}\g<2>", cell.source)
    return notebook


def load_grader(course: Course, lesson: str):
    """The lesson's grader module, imported for its ``CALIBRATED`` bounds and measures."""
    path = course.grader_path(lesson)
    spec = importlib.util.spec_from_file_location(f"calibrated_{lesson}", path)
    module = importlib.util.module_from_spec(spec)
    with calibration.measuring():
        spec.loader.exec_module(module)
    return module


def bounds_of(course: Course, lesson: str) -> dict[str, calibration.Bound]:
    module = load_grader(course, lesson)
    bounds = getattr(module, "CALIBRATED", {})
    missing = [m for m in bounds if not callable(getattr(module, f"measure_{m}", None))]
    if missing:
        raise ValueError(f"{lesson}: no measure_{missing[0]}(handin) in the grader file")
    return bounds


def _warm() -> None:
    """Worker start: import TensorFlow and Keras once, for every run this worker measures."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras  # noqa: F401


def run_seed(course_root: str, lesson: str, seed: int, limits: dict) -> SeedRun:
    """Execute the solution with ``seed`` in a confined kernel and measure its hand-in."""
    from course_lib.grader.execution import execute_notebook
    from course_lib.grader.handin import Handin

    course = Course(Path(course_root))
    module = load_grader(course, lesson)
    run = SeedRun(seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="course-calibrate-") as tmp:
        handin_dir = Path(tmp) / "handin"
        outcome = execute_notebook(
            seeded_notebook(course, lesson, seed),
            spec=course.handin_spec(lesson),
            limits=Limits(**limits),
            handin_dir=handin_dir,
            lesson_files=course.lesson_files(lesson),
            lesson_dir=course.source_dir / lesson,
        )
        run.seconds = round(time.monotonic() - started, 1)
        if outcome.first_error or outcome.stopped:
            run.problem = outcome.stopped or outcome.first_error
            return run
        handin = Handin(handin_dir, outcome.as_dict())
        for metric in getattr(module, "CALIBRATED", {}):
            try:
                run.values[metric] = float(getattr(module, f"measure_{metric}")(handin))
            except Exception as exc:  # a CheckFailure: the solution failed to hand something in
                run.problem = f"{metric}: {str(exc).splitlines()[0] if str(exc) else exc!r}"
    return run


def calibrate(
    course: Course,
    lesson: str,
    seeds: list[int],
    *,
    limits: Limits,
    workers: int = 2,
    progress=None,
) -> Calibration:
    """Run the solution of ``lesson`` once per seed, ``workers`` at a time, and measure it."""
    course.check_lesson(lesson)
    bounds = bounds_of(course, lesson)
    threads = limits.threads or max(1, (os.cpu_count() or 1) // workers)
    settings = {**asdict(limits), "threads": threads}
    runs = []
    with concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_warm
    ) as pool:
        futures = [
            pool.submit(run_seed, str(course.root), lesson, seed, settings) for seed in seeds
        ]
        for future in concurrent.futures.as_completed(futures):
            run = future.result()
            runs.append(run)
            if progress:
                progress(f"{lesson} seed {run.seed}: {run.problem or run.values}")
    runs.sort(key=lambda run: run.seed)
    return Calibration(lesson, runs, bounds)


def write_record(course: Course, result: Calibration) -> Path:
    """Write ``autograder/calibration/<lesson>.json`` (atomically)."""
    path = calibration.record_path(course.grader_path(result.lesson), result.lesson)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.tmp")
    partial.write_text(json.dumps(result.record(), indent=1) + "\n", encoding="utf-8")
    partial.replace(path)
    return path
