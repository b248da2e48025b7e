"""Did a change to a lesson make its notebook slower? An earlier commit's solution against this one.

Runs the lesson's solution notebook as it was at ``--base`` (a commit) and as it is now,
alternately (the base first in even rounds), each plainly as ``grade_overhead.py`` does
(``jupyter nbconvert --execute`` in a scratch copy, hidden test cells inert), with this
checkout's ``course_lib``. Prints every run, the medians and their ratio (new / base). Not a
test: wall times vary with the machine's load, which is printed before and after.

    python benchmarks/lesson_runtime.py LESSON --base COMMIT [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.grade_overhead import plain  # noqa: E402
from course_lib.grader.course import Course  # noqa: E402


def course_at(commit: str, lesson: str, folder: Path) -> Course:
    """A course folder holding ``source/<lesson>/`` as it was at ``commit``."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, f"source/{lesson}"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return Course(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lesson")
    parser.add_argument("--base", required=True, help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    seconds: dict[str, list[float]] = {"base": [], "new": []}
    with tempfile.TemporaryDirectory(prefix="lesson-runtime-") as tmp:
        courses = {
            "base": course_at(args.base, args.lesson, Path(tmp) / "base"),
            "new": Course(ROOT),
        }
        for round_ in range(args.rounds):
            order = ("base", "new") if round_ % 2 == 0 else ("new", "base")
            for kind in order:
                scratch = Path(tmp) / f"run-{kind}"
                scratch.mkdir(exist_ok=True)
                seconds[kind].append(plain(courses[kind], args.lesson, scratch)[0])
                print(f"  round {round_ + 1} {kind}: {seconds[kind][-1]:.1f} s", flush=True)
    base, new = statistics.median(seconds["base"]), statistics.median(seconds["new"])
    print(f"{args.lesson}: {args.base} vs this checkout, {args.rounds} round(s), "
          f"{os.cpu_count()} cores, load average before/after: "
          f"{load_before:.2f} / {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"median base {base:.1f} s, new {new:.1f} s, new/base {new / base:.2f}")


if __name__ == "__main__":
    main()
