"""Are the lessons well authored: notebooks as the single source, released exactly by nbgrader?

``source/<lesson>/<lesson>.ipynb`` is what instructors edit (JupyterLab with nbgrader's
Create Assignment toolbar); nothing generates it. These tests hold every lesson to what
nbgrader and the graders rely on.
"""

from __future__ import annotations

import importlib.util
import math
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
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


GRADED_CELL_NOTE = (
    "# Graded cell: a hidden test checks this part when your notebook is graded. Leave it as it is."
)


@pytest.mark.parametrize("lesson", LESSONS)
def test_students_see_what_a_grade_cell_is_and_a_quiet_setup(course, lesson):
    """The release shows a grade cell's note only; the setup imports course_lib first.

    course_lib keeps TensorFlow's start-up log out of the notebook only if it is imported
    before Keras.
    """
    notebook = course.source_notebook(lesson)
    for cell in notebook.cells:
        if cells.is_test(cell):
            assert cell.source.splitlines()[0] == GRADED_CELL_NOTE, cells.grade_id(cell)
    setup = next(c for c in notebook.cells if cells.grade_id(c) == "setup")
    imports = [line for line in setup.source.splitlines() if re.match(r"(from|import) ", line)]
    assert imports[0].startswith("from course_lib import ") and imports[0].endswith(
        "# isort: skip"
    ), "the setup cell imports course_lib before anything else"


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


PART_HEADING = re.compile(r"#+\s*Part\s+([A-Z])\b")
STATED_POINTS = re.compile(r"\((\d+) points?\b([^)]*)\)")
GRADED_ELSEWHERE = re.compile(r"graded (?:in|with) Part ([A-Z])")


@dataclass
class Part:
    letter: str
    stated: int
    graded_in: str | None
    grade_cells: dict[str, float] = field(default_factory=dict)


def parts_of(notebook) -> list[Part]:
    """Every "Part X — … (N points[, graded in Part Y])" heading and the grade cells after it."""
    parts: list[Part] = []
    for cell in notebook.cells:
        first_line = cell.source.splitlines()[0] if cell.source else ""
        if cell.cell_type == "markdown" and (heading := PART_HEADING.match(first_line)):
            points = STATED_POINTS.search(first_line)
            assert points, f"{first_line!r} does not state its points"
            elsewhere = GRADED_ELSEWHERE.search(points.group(2))
            parts.append(
                Part(heading.group(1), int(points.group(1)), elsewhere and elsewhere.group(1))
            )
        elif cells.is_test(cell):
            assert parts, f"grade cell {cells.grade_id(cell)} comes before the first part"
            parts[-1].grade_cells[cells.grade_id(cell)] = float(cell.metadata.nbgrader.points)
    return parts


@pytest.mark.parametrize("lesson", LESSONS)
def test_points_stated_in_each_part_are_its_grade_cells(course, lesson):
    """A part without grade cells of its own is graded by the next part's; the points add up.

    E.g. "Part A (1 point, graded in Part B)" and "Part B (5 points)" need grade cells worth 6
    after Part B's heading (before Part C's).
    """
    parts = parts_of(course.source_notebook(lesson))
    assert parts, "the lesson has no parts"
    group: list[Part] = []
    for part in parts:
        group.append(part)
        if not part.grade_cells:
            continue
        stated = {p.letter: p.stated for p in group}
        graded = part.grade_cells
        assert sum(stated.values()) == sum(graded.values()), (
            f"Parts {'+'.join(stated)} state {stated} points, their grade cells give {graded}"
        )
        for p in group:
            assert p.graded_in in (None, *stated), (
                f"Part {p.letter} says it is graded in Part {p.graded_in}, but its points are "
                f"graded after Part {part.letter}"
            )
        group = []
    assert not group, f"Parts {[p.letter for p in group]} state points but no grade cell follows"


# Constants of a grader named like a threshold that are tolerances of the grading itself, not
# targets a student aims at: the notebook need not state them.
NOT_STATED = {
    ("02_classification", "MIN_AGREEMENT"): "share of wine_pred equal to the model's own labels",
}
THRESHOLD_NAME = re.compile(r"^(MIN|MAX)_|MARGIN|GAIN|^LIMITS$")
NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?(?:e-?\d+)?")


def grader_thresholds(course, lesson: str) -> dict[str, float]:
    """The grader's thresholds: calibrated ``LIMITS`` and constants MIN_*, MAX_*, *MARGIN*, *GAIN*.

    A negative limit is a margin the notebook states as a positive number ("at most 0.003
    less accurate"), so magnitudes are compared.
    """
    spec = importlib.util.spec_from_file_location(f"grader_{lesson}", course.grader_path(lesson))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = {}
    for name, value in vars(module).items():
        if not THRESHOLD_NAME.search(name) or (lesson, name) in NOT_STATED:
            continue
        if isinstance(value, dict):
            found.update({f"{name}[{key}]": v for key, v in value.items()})
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found[name] = value
    return found


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_threshold_is_stated_as_the_grader_uses_it(course, lesson):
    """A student reads each accuracy/error/margin limit in the notebook, in the grader's units."""
    text = "\n".join(
        c.source for c in course.source_notebook(lesson).cells if c.cell_type == "markdown"
    )
    stated = {float(n.replace(",", "")) for n in NUMBER.findall(text)}
    thresholds = grader_thresholds(course, lesson)
    missing = {
        name: value
        for name, value in thresholds.items()
        if not any(math.isclose(abs(value), number, rel_tol=1e-9) for number in stated)
    }
    assert not missing, (
        f"the notebook never states {missing} (write the number as the grader has it)"
    )


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
