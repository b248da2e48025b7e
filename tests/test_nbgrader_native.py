"""Do plain nbgrader commands work on the course folder and score exactly as `course grade`?

The canned notebooks' `course grade` scores are pinned by ``test_canned.py`` (``EXPECTED``);
here the same files go through `nbgrader generate_assignment / autograde / generate_feedback /
export` in a throw-away copy of the course, and every grade cell must get the same points.
Lesson 01 gets a full class (correct, untouched, wrong); lessons 03, 04 and 07 a cheap one
(untouched and a mistake that trains briefly or not at all), so both passing and failing grade
cells are compared. (All lessons share one engine; CI's time budget does not allow a class
for every lesson.)
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook

from course_lib.admin.release import venv_env

from .conftest import CANNED, copy_course, load_variants

LESSON = "01_regression"
STUDENTS = {"alice": "correct", "bob": "untouched", "carol": "wrong_activation"}
CHEAP_CLASSES = {
    "03_hidden_layers": {"bob": "untouched", "carol": "sgd_for_adam"},
    "04_mnist_ann": {"bob": "untouched", "carol": "no_validation_split"},
    "07_transfer_learning": {"bob": "untouched", "carol": "grayscale_one_channel"},
}
HIDDEN_CODE_MARKERS = ("hidden_test(", "BEGIN HIDDEN TESTS", "autograder", "handin.", "assert ")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("nbgrader-native")]


def nbgrader(course, *args):
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course.root}"],
        cwd=course.root,
        capture_output=True,
        text=True,
        env=venv_env(),
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def expected_points(course, variant: str, lesson: str = LESSON) -> dict[str, float]:
    """Per grade cell, the points `course grade` gives this canned notebook."""
    failing = load_variants(lesson).EXPECTED[variant]
    return {t.id: 0.0 if t.id in failing else t.points for t in course.tests(lesson)}


def autograde_class(course, lesson: str, students: dict[str, str]) -> None:
    """Release ``lesson``, hand in each student's canned notebook, run `nbgrader autograde`."""
    nbgrader(course, "generate_assignment", lesson, "--force")
    for student, variant in students.items():
        folder = course.root / "submitted" / student / lesson
        folder.mkdir(parents=True)
        shutil.copy(CANNED / lesson / f"{variant}.ipynb", folder / f"{lesson}.ipynb")
    nbgrader(course, "autograde", lesson)


def assert_gradebook_matches(course, lesson: str, students: dict[str, str]) -> None:
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gradebook:
        for student, variant in students.items():
            submission = gradebook.find_submission_notebook(lesson, lesson, student)
            found = {grade.name: grade.score for grade in submission.grades}
            assert found == expected_points(course, variant, lesson), (lesson, student)


@pytest.fixture(scope="module")
def autograded_course(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("nbgrader-course"))
    autograde_class(course, LESSON, STUDENTS)
    return course


def test_autograde_gives_the_same_points_per_grade_cell(autograded_course):
    assert_gradebook_matches(autograded_course, LESSON, STUDENTS)


@pytest.mark.parametrize(
    "lesson",
    [
        pytest.param(lesson, marks=pytest.mark.xdist_group(f"nbgrader-{lesson}"))
        for lesson in CHEAP_CLASSES
    ],
)
def test_autograde_agrees_on_every_lesson(tmp_path, lesson):
    course = copy_course(tmp_path)
    autograde_class(course, lesson, CHEAP_CLASSES[lesson])
    assert_gradebook_matches(course, lesson, CHEAP_CLASSES[lesson])


def test_export_totals_match(autograded_course):
    course = autograded_course
    out = course.root / "grades.csv"
    nbgrader(course, "export", f"--CsvExportPlugin.to={out}")
    with out.open(newline="") as table:
        rows = {row["student_id"]: row for row in csv.DictReader(table)}
    for student, variant in STUDENTS.items():
        assert float(rows[student]["score"]) == sum(expected_points(course, variant).values())
        assert float(rows[student]["max_score"]) == 10.0


def test_feedback_shows_verdicts_but_no_hidden_test_code(autograded_course):
    """`course feedback` and `nbgrader generate_feedback` write one page, at one path."""
    course = autograded_course
    done = subprocess.run(
        [sys.executable, "-m", "course_lib.cli", "feedback", LESSON],
        cwd=course.root,
        capture_output=True,
        text=True,
        env=venv_env(),
    )
    assert done.returncode == 0, done.stderr
    paths = {s: course.root / "feedback" / s / LESSON / f"{LESSON}.html" for s in STUDENTS}
    by_course = {student: path.read_bytes() for student, path in paths.items()}
    nbgrader(course, "generate_feedback", LESSON, "--force")
    assert {student: path.read_bytes() for student, path in paths.items()} == by_course
    html = paths["carol"].read_text()
    assert "output layer: wrong activation" in html
    assert "<h1>Lesson 01" in html  # markdown rendered, not its source
    leaked = [marker for marker in HIDDEN_CODE_MARKERS if marker in html]
    assert leaked == [], f"feedback reveals grader code: {leaked}"
