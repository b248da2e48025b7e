"""Are the lessons well authored: notebooks as the single source, released exactly by nbgrader?

``source/<lesson>/<lesson>.ipynb`` is what instructors edit (JupyterLab with nbgrader's
Create Assignment toolbar); nothing generates it. These tests hold every lesson to what
nbgrader and the graders rely on.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.nbgraderformat import MetadataValidator

from course_lib.admin.release import release_lesson
from course_lib.admin.validate import grader_test_ids
from course_lib.grader import cells

from .conftest import ROOT, copy_course

LESSONS = sorted(
    p.parent.name for p in (ROOT / "source").glob("*/*.ipynb") if p.stem == p.parent.name
)


@pytest.mark.parametrize("lesson", LESSONS)
def test_source_notebook_is_valid_for_nbformat_and_nbgrader(course, lesson):
    source = course.source_notebook(lesson)
    nbformat.validate(source)
    MetadataValidator().validate_nb(source)


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_source_cell_is_marked_and_stripped(course, lesson):
    source = course.source_notebook(lesson)
    ids = [cells.grade_id(cell) for cell in source.cells]
    assert all(ids) and len(ids) == len(set(ids)), "every cell needs a unique nbgrader grade_id"
    code = [cell for cell in source.cells if cell.cell_type == "code"]
    assert not [cells.grade_id(c) for c in code if c.get("outputs") or c.get("execution_count")]


@pytest.mark.parametrize("lesson", LESSONS)
def test_grade_cells_hold_only_the_canonical_hidden_call(course, lesson):
    tests = course.tests(lesson)
    assert sorted(t.id for t in tests) == sorted(grader_test_ids(course, lesson))
    assert all(t.points > 0 for t in tests)
    for cell in course.source_notebook(lesson).cells:
        if cells.is_test(cell):
            assert cells.hidden_region(cell) == cells.hidden_test_call(
                lesson, cells.grade_id(cell)
            ), "a hidden test region is the single call into the graders"


@pytest.mark.parametrize("lesson", LESSONS)
def test_answer_cells_have_a_solution_region(course, lesson):
    for cell in course.source_notebook(lesson).cells:
        if cells.is_answer(cell) and cell.cell_type == "code":
            inside, _ = cells.split_region(cell.source, cells.SOLUTION)
            assert inside, f"answer cell {cells.grade_id(cell)} has no solution to remove"


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_handed_in_name_is_defined_only_in_a_solution(course, lesson):
    """The untouched release must not define graded names, or it could earn points.

    Evidence of how the given code ran (the History of a given fit call, the path a model is
    saved to) may be given: it earns nothing without the answers it describes.
    """
    release = nbformat.read(course.release_notebook_path(lesson), as_version=4)
    code = "\n".join(cell.source for cell in release.cells if cell.cell_type == "code")
    for name, kind in course.handin_spec(lesson).items():
        if kind in ("history", "saved_model"):
            continue
        assert f"\n{name} =" not in f"\n{code}", f"{name} is assigned outside a solution region"


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    """The course copied without its release, then every lesson released by nbgrader."""
    copy = copy_course(tmp_path_factory.mktemp("course"))
    for lesson in LESSONS:
        assert release_lesson(copy, lesson) == []
    return copy


@pytest.mark.xdist_group("fresh-release")
@pytest.mark.parametrize("lesson", LESSONS)
def test_committed_release_is_what_generate_assignment_makes(course, fresh_release, lesson):
    committed = course.release_notebook_path(lesson).read_bytes()
    assert fresh_release.release_notebook_path(lesson).read_bytes() == committed, (
        f"release/{lesson} is stale: run `course release {lesson}` and commit it"
    )


def test_an_edit_made_in_the_source_notebook_reaches_the_release(tmp_path):
    """The instructor's workflow: edit source/ (as JupyterLab saves it), then `course release`."""
    copy = copy_course(tmp_path)
    path = copy.source_notebook_path("01_regression")
    notebook = nbformat.read(path, as_version=4)
    intro = next(c for c in notebook.cells if cells.grade_id(c) == "intro")
    intro.source += "\n\nOffice hours: Tuesdays, room 4."
    nbformat.write(notebook, path)

    done = subprocess.run(
        [sys.executable, "-m", "course_lib.cli", "release", "01_regression"],
        cwd=copy.root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    released = nbformat.read(copy.release_notebook_path("01_regression"), as_version=4)
    assert "Office hours: Tuesdays, room 4." in released.cells[0].source
    assert nbformat.read(path, as_version=4) == notebook, "the source was overwritten"


def test_lesson_code_passes_ruff():
    ruff = Path(sys.executable).with_name("ruff")
    done = subprocess.run(
        [str(ruff), "check", "--no-cache", "source"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout


def test_wheel_contains_no_grader_and_no_solution(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    packages = {name.split("/")[0] for name in names}
    assert packages <= {
        "course_lib",
        f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info",
    }
    assert {"course_lib/grader/grade.py", "course_lib/classroom/batch.py"} <= set(names)
    assert not [n for n in names if "autograder" in n or n.endswith(".ipynb") or "/test_" in n]
