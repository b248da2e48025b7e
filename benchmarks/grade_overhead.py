"""What does grading one notebook cost on top of running it? Every lesson, one run.

For each lesson, alternately (plain first in even rounds, grading first in odd ones):

* **plain**: ``jupyter nbconvert --execute`` of the solution notebook in a scratch copy of
  the lesson folder, hidden test cells inert (``COURSE_GRADING=1``), a stock kernel;
* **grade**: ``course grade source/<lesson>/<lesson>.ipynb --json`` (restore, confined kernel,
  hand-in, out-of-kernel graders).

Prints the median wall time of each, their ratio (goal <= 1.15), and the peak memory (PSS of
the whole process tree) of each. Not a test: wall times vary with the machine's load, which
is printed before and after.

    python benchmarks/grade_overhead.py [--rounds 2] [LESSON ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.measure import timed  # noqa: E402
from course_lib.grader.course import Course  # noqa: E402


def plain(course: Course, lesson: str, scratch: Path) -> tuple[float, int]:
    """Seconds and peak MB of executing the solution with a stock kernel."""
    work = scratch / f"plain-{lesson}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(course.source_dir / lesson, work)
    notebook = work / f"{lesson}.ipynb"
    seconds, _, (peak_mb, _) = timed(
        [sys.executable, "-m", "jupyter", "nbconvert", "--execute", "--to", "notebook",
         "--ExecutePreprocessor.timeout=1200", "--output", "executed", str(notebook)],
        cwd=work, measure_memory=True, env={"COURSE_GRADING": "1"},
    )  # fmt: skip
    return seconds, peak_mb


def grade(course: Course, lesson: str, scratch: Path) -> tuple[float, int]:
    """Seconds and peak MB of ``course grade`` on the solution."""
    seconds, _, (peak_mb, _) = timed(
        [sys.executable, "-m", "course_lib.cli", "grade",
         str(course.source_notebook_path(lesson)), "--json"],
        cwd=scratch, measure_memory=True, env={"COURSE_DIR": str(course.root)},
    )  # fmt: skip
    return seconds, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lesson ids (default: all)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    course = Course(ROOT)
    lessons = args.lessons or course.lessons
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="grade-overhead-") as tmp:
        scratch = Path(tmp)
        for lesson in lessons:
            runs: dict[str, list[tuple[float, int]]] = {"plain": [], "grade": []}
            for round_ in range(args.rounds):
                order = ("plain", "grade") if round_ % 2 == 0 else ("grade", "plain")
                for kind in order:
                    measure = plain if kind == "plain" else grade
                    runs[kind].append(measure(course, lesson, scratch))
                    print(f"  {lesson} round {round_ + 1} {kind}: {runs[kind][-1][0]:.1f} s",
                          file=sys.stderr, flush=True)  # fmt: skip
            plain_s = statistics.median(s for s, _ in runs["plain"])
            grade_s = statistics.median(s for s, _ in runs["grade"])
            plain_mb = max(mb for _, mb in runs["plain"])
            grade_mb = max(mb for _, mb in runs["grade"])
            rows.append((lesson, plain_s, grade_s, plain_mb, grade_mb))
    load_after = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, {args.rounds} round(s), medians; "
          f"load average before/after: {load_before:.2f} / {load_after:.2f}")  # fmt: skip
    print("| lesson | plain s | grade s | ratio | plain peak MB | grade peak MB |")
    print("|---|---|---|---|---|---|")
    for lesson, plain_s, grade_s, plain_mb, grade_mb in rows:
        print(f"| {lesson} | {plain_s:.1f} | {grade_s:.1f} | {grade_s / plain_s:.2f} "
              f"| {plain_mb} | {grade_mb} |")  # fmt: skip
    total_plain = sum(r[1] for r in rows)
    total_grade = sum(r[2] for r in rows)
    print(
        f"| total | {total_plain:.1f} | {total_grade:.1f} | {total_grade / total_plain:.2f} | | |"
    )
    worst = max(r[2] / r[1] for r in rows)
    print(f"worst ratio {worst:.2f} (goal <= 1.15)")


if __name__ == "__main__":
    main()
