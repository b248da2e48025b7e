"""Is the course folder coherent: builders, source notebooks, grade cells and graders agree?"""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from course_lib import notebooks
from course_lib.validate import grader_test_ids

from .conftest import ROOT

LESSONS = sorted(
    p.parent.name for p in (ROOT / "source").glob("*/*.ipynb") if p.stem == p.parent.name
)


@pytest.mark.parametrize("lesson", LESSONS)
def test_source_notebook_is_what_its_builder_writes(lesson):
    builder = ROOT / "tools" / "lessons" / f"{lesson}.py"
    built = subprocess.run(
        [sys.executable, str(builder), "--stdout"], capture_output=True, text=True, check=True
    )
    committed = nbformat.read(ROOT / "source" / lesson / f"{lesson}.ipynb", as_version=4)
    assert nbformat.reads(built.stdout, as_version=4) == committed


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_source_cell_is_marked_and_stripped(course, lesson):
    source = course.source_notebook(lesson)
    ids = [notebooks.grade_id(cell) for cell in source.cells]
    assert all(ids) and len(ids) == len(set(ids)), "every cell needs a unique nbgrader grade_id"
    assert not any(cell.get("outputs") for cell in source.cells if cell.cell_type == "code")


@pytest.mark.parametrize("lesson", LESSONS)
def test_grade_cells_and_grader_tests_match_one_to_one(course, lesson):
    cells = [t.id for t in course.tests(lesson)]
    assert sorted(cells) == sorted(grader_test_ids(course, lesson))
    assert all(t.points > 0 for t in course.tests(lesson))
    for cell in course.source_notebook(lesson).cells:
        if notebooks.is_test(cell):
            hidden = (
                cell.source.split("### BEGIN HIDDEN TESTS")[1]
                .split("### END HIDDEN TESTS")[0]
                .strip()
            )
            assert hidden == (
                "from course_lib.graded import hidden_test; "
                f'hidden_test("{lesson}", "{notebooks.grade_id(cell)}")'
            ), "a hidden test cell is a single call into the graders"


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_handed_in_name_is_defined_only_in_a_solution(course, lesson):
    """The untouched release must not define graded names, or it could earn points."""
    release = nbformat.read(course.release_notebook_path(lesson), as_version=4)
    code = "\n".join(cell.source for cell in release.cells if cell.cell_type == "code")
    for name in course.handin_spec(lesson):
        assert f"\n{name} =" not in f"\n{code}", f"{name} is assigned outside a solution region"


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
    import zipfile

    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    packages = {name.split("/")[0] for name in names}
    assert packages <= {
        "course_lib",
        f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info",
    }
    assert not [n for n in names if "autograder" in n or n.endswith(".ipynb") or "/test_" in n]
