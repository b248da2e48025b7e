"""Does `course validate` pass: solution 100 %, untouched release 0 %, through the real CLI?

CI validates lesson 01 here; every lesson's solution and untouched release are also graded by
``test_canned.py`` (its ``correct`` and ``untouched`` notebooks), so running `course validate`
on every lesson (`make validate`) would only repeat the same training within CI's budget.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import asdict

import pytest

from course_lib.classroom import warm

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


class _NoServer:
    """Stands in for the warm server: these tests grade nothing for real."""

    address = warm.Address("/nonexistent/socket", "no-token")

    def __init__(self, env):
        pass

    def stop(self):
        pass


def _fake_grading(monkeypatch, earns_on_release=()):
    """Replace grading: a solution earns every point, a release none (or some, if asked)."""
    from course_lib.admin import validate
    from course_lib.grader.report import GradeReport, TestResult

    graded = []

    def grade_notebook(path, *, course, lesson, limits, graders, kernel_server):
        assert kernel_server == asdict(_NoServer.address)  # kernels forked, as in a batch
        graded.append(path)
        is_release = "release" in path.parts
        tests = []
        for test in course.tests(lesson):
            earns = not is_release or lesson in earns_on_release
            message = "passed" if earns else "not implemented yet: `model` is not defined"
            tests.append(TestResult(test.id, test.points * earns, test.points, earns, message))
        return GradeReport(lesson, tests)

    monkeypatch.setattr(validate, "grade_notebook", grade_notebook)
    monkeypatch.setattr(validate, "WarmServer", _NoServer)
    monkeypatch.setattr(validate, "grader_runner", lambda address: None)
    return graded


@pytest.mark.parametrize("workers", [1, 2])
def test_lessons_come_back_in_order_and_a_release_that_earns_points_is_a_problem(
    monkeypatch, workers
):
    from course_lib.admin.validate import validate_lessons
    from course_lib.grader.course import Course

    course = Course(ROOT)
    lessons = ["02_classification", "01_regression"]
    graded = _fake_grading(monkeypatch, earns_on_release={"01_regression"})
    results = list(validate_lessons(course, lessons, workers=workers))
    assert [r.lesson for r in results] == lessons
    assert len(graded) == 4
    assert results[0].ok and results[0].release.score == 0
    assert not results[1].ok
    assert "untouched release earns points on `preprocessing`" in results[1].problems


def test_solutions_only_grades_no_release(monkeypatch):
    from course_lib.admin.validate import validate_lessons
    from course_lib.grader.course import Course

    course = Course(ROOT)
    graded = _fake_grading(monkeypatch, earns_on_release={"01_regression"})
    results = list(validate_lessons(course, ["01_regression"], workers=2, solutions_only=True))
    assert graded == [course.source_notebook_path("01_regression")]
    assert results[0].ok and results[0].release is None
