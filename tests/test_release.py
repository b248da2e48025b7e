"""Does the release scan catch every way a release could leak solutions or graders?"""

from __future__ import annotations

import shutil

import nbformat
import pytest

from course_lib.admin.release import (
    ReleaseError,
    kernel_metadata,
    normalise_metadata,
    release_lesson,
    scan_release,
    undeclared_files,
)
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


def test_release_refuses_a_file_the_lesson_does_not_declare(course_copy):
    """A trained model left in the lesson folder by a run must never reach release/."""
    stray = course_copy.source_dir / "04_mnist_ann" / "mnist_mlp.keras"
    stray.write_bytes(b"not lesson data")
    (course_copy.source_dir / "04_mnist_ann" / ".ipynb_checkpoints").mkdir()
    (course_copy.source_dir / "04_mnist_ann" / ".ipynb_checkpoints" / "x.ipynb").write_text("{}")
    assert undeclared_files(course_copy, "04_mnist_ann") == [stray]
    with pytest.raises(ReleaseError, match=r"source/04_mnist_ann/mnist_mlp\.keras"):
        release_lesson(course_copy, "04_mnist_ann")
    assert not (course_copy.release_dir / "04_mnist_ann" / "mnist_mlp.keras").exists()


def test_declared_lesson_data_is_released_and_graded_with_the_lesson(course_copy):
    folder = course_copy.source_dir / LESSON
    (folder / "data").mkdir()
    (folder / "data" / "extra.csv").write_text("x,y\n1,2\n")
    (folder / "stray.txt").write_text("left over")
    path = course_copy.source_notebook_path(LESSON)
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata["course"] = {"data": ["data/extra.csv"]}
    nbformat.write(notebook, path)
    assert undeclared_files(course_copy, LESSON) == [folder / "stray.txt"]
    assert course_copy.lesson_files(LESSON) == [folder / "data" / "extra.csv"]


@pytest.mark.parametrize("declared", [["../01_regression.ipynb"], ["/etc/passwd"], "a.csv", [3]])
def test_lesson_data_must_be_relative_paths_inside_the_lesson(course_copy, declared):
    path = course_copy.source_notebook_path(LESSON)
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata["course"] = {"data": declared}
    nbformat.write(notebook, path)
    with pytest.raises(ReleaseError, match=r"course\.data|inside source"):
        undeclared_files(course_copy, LESSON)


def test_committed_notebooks_carry_the_metadata_a_kernel_fills_in(course):
    """Opening a notebook in JupyterLab must not mark it modified (nor autosave rewrite it)."""
    keys = set(kernel_metadata()["language_info"])
    for lesson in course.lessons:
        for path in (course.source_notebook_path(lesson), course.release_notebook_path(lesson)):
            metadata = nbformat.read(path, as_version=4).metadata
            assert metadata["kernelspec"] == kernel_metadata()["kernelspec"], path
            assert set(metadata["language_info"]) == keys, path


def test_normalising_keeps_the_code_and_clears_what_a_run_left(course_copy):
    path = course_copy.source_notebook_path(LESSON)
    original = nbformat.read(path, as_version=4)
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata["language_info"] = {"name": "python"}
    setup = next(c for c in notebook.cells if cells.grade_id(c) == "setup")
    setup.execution_count = 1
    setup.outputs = [nbformat.v4.new_output("stream", text="Keras 3.15.1\n")]
    nbformat.write(notebook, path)
    assert normalise_metadata(path) is True
    normalised = nbformat.read(path, as_version=4)
    assert normalised.metadata["language_info"] == kernel_metadata()["language_info"]
    assert normalised.cells == original.cells
    assert normalise_metadata(path) is False
