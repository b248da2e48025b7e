"""How fast does `course grade --all` grade a class, against nbgrader and against the floor?

Builds a class of canned lesson-01 submissions in a temporary course, then times, in one run:

1. ``nbgrader autograde`` (one submission after another, the same grading engine);
2. ``course grade LESSON --all --workers W`` (and the peak memory of each grading process);
3. the physical floor: plain ``jupyter nbconvert --execute`` of the same notebooks, W at a
   time with the same thread split, no sandbox and no graders.

Prints wall times (and CPU times where they can be counted), the ratios and the peak memory
per worker. Not a test: wall times vary with whatever else runs on the machine (the load
average is printed too).

    python benchmarks/grading_speed.py [--workers 2] [--students 8]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.measure import cpu_seconds, timed  # noqa: E402
from course_lib.admin.release import release_lesson, venv_env  # noqa: E402
from course_lib.grader.course import Course  # noqa: E402

LESSON = "01_regression"
VARIANTS = [
    "correct",
    "wrong_activation",
    "wrong_loss",
    "unscaled_features",
    "missing_input_shape",
    "functional_api",
    "objects_not_strings",
    "exception",
]


def make_course(folder: Path, students: list[str]) -> Path:
    for name in ("source", "release", "autograder"):
        shutil.copytree(ROOT / name, folder / name)
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    for index, variant in enumerate(students):
        target = folder / "submitted" / f"s{index:02d}_{variant}" / LESSON
        target.mkdir(parents=True)
        shutil.copy(
            ROOT / "tests" / "canned" / LESSON / f"{variant}.ipynb", target / f"{LESSON}.ipynb"
        )
    assert release_lesson(Course(folder), LESSON) == []
    return folder


def plain_execution(course: Path, workers: int) -> tuple[float, float]:
    """Execute every submitted notebook with a stock kernel, ``workers`` at a time."""
    notebooks = sorted((course / "submitted").glob(f"*/{LESSON}/{LESSON}.ipynb"))
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    env = {**venv_env(), "OMP_NUM_THREADS": threads, "TF_NUM_INTRAOP_THREADS": threads}
    env["TF_NUM_INTEROP_THREADS"] = "1"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    out = course / "plain"

    def run(path: Path) -> None:
        work = out / path.parents[1].name
        shutil.copytree(course / "source" / LESSON, work, ignore=shutil.ignore_patterns("*.ipynb"))
        shutil.copy(path, work / path.name)
        subprocess.run(
            [sys.executable, "-m", "jupyter", "nbconvert", "--execute", "--to", "notebook",
             "--allow-errors", "--ExecutePreprocessor.timeout=600", "--output", "executed",
             str(work / path.name)],
            cwd=work, env=env, capture_output=True, check=True,
        )  # fmt: skip

    cpu = cpu_seconds()
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, notebooks))
    return time.monotonic() - started, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--students", type=int, default=8)
    args = parser.parse_args()
    students = [VARIANTS[i % len(VARIANTS)] for i in range(args.students)]
    with tempfile.TemporaryDirectory(prefix="grading-speed-") as tmp:
        a = make_course(Path(tmp) / "nbgrader", students)
        b = make_course(Path(tmp) / "course", students)
        load_before = os.getloadavg()[0]
        nbgrader_s, nbgrader_cpu, _ = timed(
            [sys.executable, "-m", "nbgrader", "autograde", LESSON], cwd=a
        )
        course_s, course_cpu, (total_mb, task_mbs) = timed(
            [sys.executable, "-m", "course_lib.cli", "grade", LESSON, "--all",
             "--workers", str(args.workers)],
            cwd=b, measure_memory=True,
        )  # fmt: skip
        floor_s, floor_cpu = plain_execution(b, args.workers)
        load_after = os.getloadavg()[0]
    n = len(students)
    print(f"class: {n} lesson-01 submissions, {os.cpu_count()} cores, {args.workers} workers")
    print(f"load average before/after: {load_before:.2f} / {load_after:.2f}")
    rows = [
        ("nbgrader autograde (one at a time)", nbgrader_s, nbgrader_cpu),
        (f"course grade --all --workers {args.workers}", course_s, course_cpu),
        (f"plain nbconvert --execute, {args.workers} at a time", floor_s, floor_cpu),
    ]
    print(f"{'':<42} {'wall':>8}  {'CPU':>8}")
    for label, seconds, cpu in rows:
        print(f"{label:<42} {seconds:7.1f}s  {cpu:7.1f}s")
    print(f"throughput vs nbgrader: {nbgrader_s / course_s:.2f}x   (goal >= 1.5x)")
    print(f"time vs the floor:      {course_s / floor_s:.2f}x   (goal <= 1.15x)")
    print(
        "CPU = user+system time of reaped descendants: sandboxed kernels are killed at shutdown,\n"
        "so their CPU is missing from the first two rows; only the floor's CPU is complete."
    )
    print(
        f"peak memory of course grade, all processes together (PSS): {total_mb} MB, "
        f"{total_mb / args.workers:.0f} MB per worker"
    )
    if task_mbs:
        print(
            f"peak memory per task tree (a grading with its kernel, or a grader run; PSS): "
            f"max {max(task_mbs)} MB, median {task_mbs[len(task_mbs) // 2]} MB "
            f"over {len(task_mbs)} tasks"
        )


if __name__ == "__main__":
    main()
