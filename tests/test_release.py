"""Does the release scan catch every way a release could leak solutions or graders?"""

from __future__ import annotations

import shutil

import nbformat
import pytest

from course_lib.admin.release import scan_release
from course_lib.grader import cells

from .conftest import copy_course

LESSON = "01_regression"


@pytest.fixture
def course_copy(tmp_path):
    return copy_course(tmp_path)


def test_committed_releases_are_clean(course):
    for lesson in course.lessons:
        assert scan_release(course, lesson) == [], lesson


def _edit_release(course, edit):
    path = course.release_notebook_path(LESSON)
    notebook = nbformat.read(path, as_version=4)
    edit(notebook)
    nbformat.write(notebook, path)


@pytest.mark.parametrize(
    ("edit", "leak"),
    [
        (
            lambda nb: nb.cells.append(
                nbformat.v4.new_code_cell("X_train_scaled = (X_train - feature_mean) / feature_std")
            ),
            "contains solution code: 'X_train_scaled = (X_train - feature_mean) / feature_std'",
        ),
        (
            lambda nb: nb.cells.append(
                nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")
            ),
            "still has a 'BEGIN SOLUTION' marker",
        ),
        (
            lambda nb: nb.cells.append(nbformat.v4.new_code_cell("import autograder")),
            "mentions 'autograder'",
        ),
        (
            lambda nb: nb.cells.append(
                nbformat.v4.new_code_cell(cells.hidden_test_call("01_regression", "quality"))
            ),
            "contains hidden-test code",
        ),
        (
            lambda nb: nb.cells[2].outputs.append(nbformat.v4.new_output("stream", text="10/10")),
            "has outputs",
        ),
    ],
)
def test_scan_catches_a_leak_in_the_notebook(course_copy, edit, leak):
    _edit_release(course_copy, edit)
    assert any(leak in str(found) for found in scan_release(course_copy, LESSON)), scan_release(
        course_copy, LESSON
    )


def test_scan_catches_a_released_grader_file(course_copy):
    shutil.copy(
        course_copy.grader_path(LESSON), course_copy.release_dir / LESSON / "test_01_regression.py"
    )
    assert [str(leak) for leak in scan_release(course_copy, LESSON)] == [
        "release/01_regression/test_01_regression.py: a grader file was released"
    ]


def test_scan_reports_a_missing_release(course_copy):
    course_copy.release_notebook_path(LESSON).unlink()
    assert "the released notebook is missing" in str(scan_release(course_copy, LESSON)[0])
