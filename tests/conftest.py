"""Shared fixtures: the course folder, canned submissions, the offline data folder."""

from __future__ import annotations

import importlib.util
import os
import shutil
from functools import cache
from pathlib import Path

import pytest

from course_lib.classroom import warm
from course_lib.classroom.store import SubmissionResult
from course_lib.grader.course import Course
from course_lib.grader.report import GradeReport, Status, TestResult
from course_lib.grader.settings import DEFAULT_LIMITS
from course_lib.grader.verdict import grader_env

ROOT = Path(__file__).resolve().parents[1]
CANNED = ROOT / "tests" / "canned"
SHARED_DATA = ROOT.parent / "shared" / "data"


@cache
def load_variants(lesson: str):
    """The ``variants_<lesson>.py`` module: VARIANTS, EXPECTED and OPTIONS."""
    path = CANNED / f"variants_{lesson}.py"
    spec = importlib.util.spec_from_file_location(f"variants_{lesson}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def course() -> Course:
    return Course(ROOT)


@pytest.fixture(scope="session")
def warm_server():
    """A warm server as a batch starts one (default limits): graders and kernels forked."""
    server = warm.WarmServer({**os.environ, **grader_env(DEFAULT_LIMITS)})
    yield server
    server.stop()


@pytest.fixture(scope="session")
def warm_graders(warm_server):
    """A runner for ``grade_notebook(graders=...)`` judging in a warm server, as a batch does."""
    return warm.grader_runner(warm_server.address)


def copy_course(dest: Path) -> Course:
    """A throw-away copy of the course folder (runs there leave no gradebook or submissions)."""
    for name in ("source", "release", "autograder"):
        shutil.copytree(ROOT / name, dest / name)
    shutil.copy(ROOT / "nbgrader_config.py", dest)
    return Course(dest)


def submission_result(
    student: str = "ada",
    status: Status = Status.GRADED,
    passed: bool = True,
    *,
    lesson: str = "01_regression",
    message: str | None = None,
    fingerprint: str = "",
) -> SubmissionResult:
    """A stored result of one 2-point test, passed or failed, for unit tests of results' users."""
    reason = None if status is Status.GRADED else "the kernel died"
    test = TestResult(
        "quality",
        2.0 if passed else 0.0,
        2.0,
        passed,
        message or ("passed" if passed else "test error: too high\n  hint: train"),
    )
    return SubmissionResult(
        student=student,
        lesson=lesson,
        status=status,
        reason=reason,
        report=GradeReport(lesson, [test], status=status, reason=reason),
        fingerprint=fingerprint,
        wall_seconds=12.5,
    )
