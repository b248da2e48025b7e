"""Shared fixtures: the course folder, canned submissions, the offline data folder."""

from __future__ import annotations

import importlib.util
import os
import shutil
from functools import cache
from pathlib import Path

import pytest

from course_lib.classroom import warm
from course_lib.grader.course import Course
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
def warm_graders():
    """A runner for ``grade_notebook(graders=...)`` judging in a warm server, as a batch does."""
    server = warm.WarmServer({**os.environ, **grader_env(DEFAULT_LIMITS)})
    yield warm.grader_runner(server.address)
    server.stop()


def copy_course(dest: Path) -> Course:
    """A throw-away copy of the course folder (runs there leave no gradebook or submissions)."""
    for name in ("source", "release", "autograder"):
        shutil.copytree(ROOT / name, dest / name)
    shutil.copy(ROOT / "nbgrader_config.py", dest)
    return Course(dest)
