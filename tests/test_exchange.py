"""Does a class run through nbgrader's exchange on one machine, with two students?

The README's "Running a class" commands, as they are written there: the instructor releases
lesson 01 to the course's exchange, two students (each with a home and an nbgrader config
of their own) fetch and submit it, the instructor collects, grades with `course grade --all`,
writes feedback with `course feedback` and releases it, each student fetches their own
feedback. Grades then leave the kit: `nbgrader export` and `course report --format csv|json`.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.admin.release import venv_env
from course_lib.classroom.store import ResultStore

from .conftest import CANNED, copy_course

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("exchange")]

LESSON = "01_regression"
STUDENTS = {"alice": ("correct", 10.0), "bob": ("wrong_activation", 5.0)}
STUDENT_CONFIG = """\
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "keras-course"
c.Exchange.root = "{exchange}"
c.CourseDirectory.student_id = "{student}"  # students share this machine's Unix account
"""


def run(cwd: Path, *command: str, home: Path | None = None) -> subprocess.CompletedProcess:
    """A command as its user types it: `course …` or `nbgrader …`, in ``cwd``."""
    env = venv_env()
    if home is not None:
        env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"))
        env.pop("JUPYTER_CONFIG_PATH", None)
    program = ["-m", "course_lib.cli"] if command[0] == "course" else ["-m", "nbgrader"]
    done = subprocess.run(
        [sys.executable, *program, *command[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
    return done


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    """A term of lesson 01: released, fetched, submitted, collected, graded, fed back."""
    root = tmp_path_factory.mktemp("term")
    course = copy_course(root / "course").root
    exchange = course / "exchange"
    homes = {student: root / "home" / student for student in STUDENTS}
    for student, home in homes.items():
        (home / ".jupyter").mkdir(parents=True)
        (home / ".jupyter" / "nbgrader_config.py").write_text(
            STUDENT_CONFIG.format(exchange=exchange, student=student)
        )

    run(course, "course", "release", LESSON)
    run(course, "nbgrader", "release_assignment", LESSON)
    for student, (variant, _) in STUDENTS.items():
        run(homes[student], "nbgrader", "fetch_assignment", LESSON, home=homes[student])
        fetched = homes[student] / LESSON / f"{LESSON}.ipynb"
        assert fetched.is_file()
        shutil.copy(CANNED / LESSON / f"{variant}.ipynb", fetched)  # the student's work
        run(homes[student], "nbgrader", "submit", LESSON, home=homes[student])
    run(course, "nbgrader", "collect", LESSON)
    run(course, "course", "grade", LESSON, "--all")
    run(course, "course", "feedback", LESSON)
    run(course, "nbgrader", "release_feedback", LESSON)
    for home in homes.values():
        run(home, "nbgrader", "fetch_feedback", LESSON, home=home)
    return course, homes


def test_each_student_gets_their_own_grade_and_feedback(term):
    course, homes = term
    results = ResultStore(course, LESSON).all()
    scores = {student: (str(r.status), r.score) for student, r in results.items()}
    assert scores == {student: ("graded", score) for student, (_, score) in STUDENTS.items()}
    for student, home in homes.items():
        pages = list((home / LESSON / "feedback").glob(f"*/{LESSON}.html"))
        assert len(pages) == 1, pages
        page = pages[0].read_text(encoding="utf-8")
        assert f"Score: {STUDENTS[student][1]:g} / 10" in page
        assert f'<p class="muted">{student}</p>' in page  # the page names its student
    assert sorted(os.listdir(course / "submitted")) == sorted(STUDENTS)


def test_grades_leave_the_kit_for_an_lms(term):
    course, _ = term
    run(course, "nbgrader", "export", "--to=grades.csv")
    with (course / "grades.csv").open(newline="") as table:
        totals = {row["student_id"]: float(row["score"]) for row in csv.DictReader(table)}
    assert totals == {student: score for student, (_, score) in STUDENTS.items()}

    printed = run(course, "course", "report", LESSON, "--format", "csv").stdout.strip()
    with (course / printed).open(newline="") as table:
        rows = {row["student_id"]: row for row in csv.DictReader(table)}
    assert float(rows["alice"]["score"]) == 10.0 and rows["bob"]["architecture"] == "0"
    assert rows["bob"]["preprocessing"] == "2" and rows["bob"]["status"] == "graded"

    printed = run(course, "course", "report", LESSON, "--format", "json").stdout.strip()
    record = json.loads((course / printed).read_text())
    assert record["format"] == 1 and record["lesson"] == LESSON
    bob = next(s for s in record["students"] if s["student_id"] == "bob")
    assert bob["score"] == 5.0 and bob["tests"]["architecture"] == 0.0
    assert sum(t["max_points"] for t in record["tests"]) == 10.0
