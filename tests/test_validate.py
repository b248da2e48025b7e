"""Does `course validate` pass: solution 100 %, untouched release 0 %, through the real CLI?

CI validates lesson 01 here; every lesson's solution and untouched release are also graded by
``test_canned.py`` (its ``correct`` and ``untouched`` notebooks), so running `course validate`
on every lesson (`make validate`) would only repeat the same training within CI's budget.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import ROOT

LESSONS = ["01_regression"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "lesson",
    [
        pytest.param(lesson, marks=pytest.mark.xdist_group(f"validate-{lesson}"))
        for lesson in LESSONS
    ],
)
def test_course_validate_passes(lesson):
    done = subprocess.run(
        [sys.executable, "-m", "course_lib.cli", "validate", lesson],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    lines = done.stdout.splitlines()
    assert (
        f"✔ {lesson}: solution 100 %, untouched release 0 % with 'not implemented yet' everywhere"
        in lines
    )
    solution_total = next(line for line in lines if line.startswith(f"{lesson} solution: "))
    release_total = next(line for line in lines if line.startswith(f"{lesson} untouched release: "))
    score, _, max_score = solution_total.split(": ")[1].split(" (")[0].partition(" / ")
    assert float(score) == float(max_score) > 0
    assert release_total.split(": ")[1].startswith("0 / ")
