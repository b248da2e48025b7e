"""A class of attackers, graded on the instructor's own terminal: nothing gets out.

``course grade`` runs on a real pseudo-terminal (its controlling terminal), once for the
notebook that tries to type into that terminal, once for a whole class with two workers. The
class mixes honest work with the corpus's attacks on what surrounds the kernel: student ids
made of glob characters (nbgrader would expand them over other students' folders), TeX,
bytes that are not UTF-8, escape codes and 250 characters; a submission that is a link to
the solution, a folder that is a link, a FIFO, 100 MB, 200,000 cells, JSON nested 100,000
deep; a saved model that writes files from the graders, escape codes in messages, a notebook
typing into the terminal. The course folder even has its own copy of ``course_lib/`` (and
the command runs there): the honest student still gets 10/10, so the warm server, the kernel
and the graders all used the command's own copy. Each student gets exactly their own grade,
the gradebook equals the table, a rerun changes nothing, and the screen shows no escape code
and no keystroke of a student's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from course_lib.admin.release import release_lesson, venv_env
from course_lib.classroom.gradebook import auto_scores, default_db_url
from course_lib.classroom.store import ResultStore

from .adversarial.cases import FAULT_LIMITS, SECRET, iter_cases
from .conftest import ROOT, copy_course
from .terminal_session import run_on_terminal
from .test_adversarial import FORGED_FILES, assert_graded_notebook, assert_outcome

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("terminal-attacks")]

LESSON = "01_regression"
CASES = {case.name: case for case in iter_cases(LESSON)}
LIMIT_ARGS = [
    f"--cell-timeout={FAULT_LIMITS['cell_timeout']}",
    f"--timeout={FAULT_LIMITS['notebook_timeout']}",
    f"--memory-mb={FAULT_LIMITS['memory_mb']}",
]
STUDENT_MARKS = [b"WRITTEN-BY-STUDENT", b"INJECTED-BY-STUDENT"]
NOT_UTF8 = b"caf\xe9"
ESCAPED_ID = "esc\x1b[2Kname"
LONG_ID = "x" * 250

GRADED = {"ada": "shadowed_builtins", "lambda": "lambda_writes_files", "$x^$": "terminal_escapes"}
GRADED |= {"tty": "tty_injection"}
"""Students whose notebook runs: student → corpus case (``ada`` is an honest 10/10)."""
REFUSED_IDS = {
    "[a]*": "the folder name contains *, ?, [ or ], which nbgrader reads as a pattern",
    "caf\\xe9": "the folder name is not valid UTF-8 text",
    "esc\\x1b[2Kname": "the folder name contains control or invisible characters",
    LONG_ID: "the folder name is 250 characters long",
}
"""Names that cannot be student ids: ungradable, never in the gradebook (shown escaped)."""
REFUSED_FILES = {
    "mallory": "01_regression.ipynb is a symbolic link, not a regular file",
    "trudy": "the 01_regression folder is a symbolic link, not a submission",
    "fifo": "01_regression.ipynb is a FIFO or device, not a regular file",
    "huge": "01_regression.ipynb is 100 MB, over the 20 MB limit",
    "many_cells": "01_regression.ipynb has 200,000 cells",
    "deep": "01_regression.ipynb is JSON nested too deeply",
}
"""Files refused before they are read in full: ungradable, a zero row in the gradebook."""


def _terminal_env() -> dict:
    return {**venv_env(), "COURSE_TEST_SECRET": SECRET}


def _no_student_keystrokes(screen: bytes, typed: bytes) -> None:
    assert typed == b"", typed[:200]
    assert not [mark for mark in STUDENT_MARKS if mark in screen]
    assert not Path("/tmp/INJECTED_BY_STUDENT").exists()
    # the only escape code on the screen is the progress bar's own "erase line"
    assert set(re.findall(rb"\x1b\[[0-9;]*[A-Za-z]", screen)) <= {b"\x1b[K"}, screen[-500:]


def test_a_notebook_cannot_type_into_the_instructors_terminal(tmp_path):
    case = CASES["tty_injection"]
    graded = tmp_path / "graded.ipynb"
    argv = [sys.executable, "-m", "course_lib.cli", "--course-dir", str(ROOT), "grade"]
    argv += [str(case.path), "--lesson", LESSON, "--graded-copy", str(graded), *LIMIT_ARGS]
    session = run_on_terminal(argv, cwd=tmp_path, env=_terminal_env(), timeout=900)

    assert session.returncode == 1, session.screen[-2000:]
    _no_student_keystrokes(session.screen, session.typed)
    notebook = json.loads(graded.read_text(encoding="utf-8"))
    assert "terminals above me: 1" in json.dumps(notebook)  # it did find the terminal
    assert_graded_notebook(case, notebook)
    assert b"FAIL  preprocessing" in session.screen and b"sandbox: Landlock ABI" in session.screen


def _notebook_bytes(cells: int, metadata: str = "{}") -> bytes:
    cell = '{"cell_type": "markdown", "id": "c", "metadata": {}, "source": "x"}'
    head = f'"nbformat": 4, "nbformat_minor": 5, "metadata": {metadata}'
    return f'{{{head}, "cells": [{", ".join([cell] * cells)}]}}'.encode()


def _submit(root: Path, student: str | bytes, content: bytes | None = None, link=None) -> None:
    folder = os.path.join(os.fsencode(root / "submitted"), os.fsencode(student), LESSON.encode())
    os.makedirs(folder)
    target = os.path.join(folder, f"{LESSON}.ipynb".encode())
    if link is not None:
        os.symlink(link, target)
    elif content is None:
        os.mkfifo(target)
    else:
        Path(os.fsdecode(target)).write_bytes(content)


@pytest.fixture(scope="module")
def attacked_class(tmp_path_factory):
    """A released course with its own course_lib/ and the class above, graded once."""
    course = copy_course(tmp_path_factory.mktemp("attacked"))
    assert release_lesson(course, LESSON) == []
    root = course.root
    shutil.copytree(
        ROOT / "course_lib", root / "course_lib", ignore=shutil.ignore_patterns("*.pyc")
    )
    for student, case in GRADED.items():
        _submit(root, student, CASES[case].path.read_bytes())
    for student in ("[a]*", NOT_UTF8, ESCAPED_ID):
        _submit(root, student, b"")
    _submit(root, LONG_ID, b"{}")
    _submit(root, "mallory", link=course.source_notebook_path(LESSON))
    os.makedirs(root / "submitted" / "trudy")
    os.symlink(root / "source" / LESSON, root / "submitted" / "trudy" / LESSON)
    _submit(root, "fifo")
    _submit(root, "huge", b"")
    os.truncate(root / "submitted" / "huge" / LESSON / f"{LESSON}.ipynb", 100 * 2**20)
    _submit(root, "many_cells", _notebook_bytes(200_000))
    _submit(root, "deep", _notebook_bytes(1, "[" * 100_000 + "]" * 100_000))
    grader = course.grader_path(LESSON).read_bytes()

    argv = [sys.executable, "-m", "course_lib.cli", "grade", LESSON, "--all", "--workers", "2"]
    session = run_on_terminal([*argv, *LIMIT_ARGS], cwd=root, env=_terminal_env(), timeout=1500)
    return course, session, argv, grader


def test_every_student_gets_their_own_grade_and_nothing_gets_out(attacked_class):
    course, session, _, grader = attacked_class
    results = ResultStore(course.root, LESSON).all()
    summary = {s: (r.status, r.score, r.reason) for s, r in results.items()}
    assert session.returncode == 1, (summary, session.screen[-3000:])  # some need a look
    _no_student_keystrokes(session.screen, session.typed)
    table = session.screen.decode("utf-8").replace("\r", "")
    for student in [*GRADED, *REFUSED_IDS, *REFUSED_FILES]:
        assert f"\n  {student} " in table, (student, summary)  # escaped where needed
    assert sorted(results) == sorted([*GRADED, *REFUSED_IDS, *REFUSED_FILES])
    for student, name in GRADED.items():
        case, result = CASES[name], results[student]
        assert result.status == case.status, (student, summary)
        tests = [t.as_json() for t in result.report.tests]
        assert_outcome(case, tests, result.score)
        notebook = ResultStore(course.root, LESSON).notebook(student)
        assert_graded_notebook(case, notebook)
    for student, reason in {**REFUSED_IDS, **REFUSED_FILES}.items():
        assert results[student].status == "ungradable", student
        assert results[student].reason.startswith(reason), (student, results[student].reason)
    assert course.grader_path(LESSON).read_bytes() == grader
    assert not [path for path in FORGED_FILES if path.exists()]


def test_the_gradebook_equals_the_table(attacked_class):
    course, _, _, _ = attacked_class
    results = ResultStore(course.root, LESSON).all()
    recorded = {s: {t.id: t.points for t in r.report.tests} for s, r in results.items()}
    expected = {s: scores for s, scores in recorded.items() if s not in REFUSED_IDS}
    assert auto_scores(default_db_url(course.root), LESSON) == expected
    assert {s for s, r in results.items() if r.recorded} == set(expected)
    autograded = course.root / "autograded"
    assert sorted(p.name for p in autograded.iterdir()) == sorted(expected)
    for student in ("mallory", "trudy"):  # the solution never reaches autograded/
        text = (autograded / student / LESSON / f"{LESSON}.ipynb").read_text(encoding="utf-8")
        assert "n_params = n_features * 1 + 1" not in text
        assert sorted(p.name for p in (autograded / student / LESSON).iterdir()) == [
            f"{LESSON}.ipynb"
        ]


def test_a_rerun_changes_nothing_and_the_reports_work(attacked_class):
    course, _, argv, _ = attacked_class
    before = {s: r.graded_at for s, r in ResultStore(course.root, LESSON).all().items()}
    gradebook = auto_scores(default_db_url(course.root), LESSON)
    session = run_on_terminal(
        [*argv, *LIMIT_ARGS], cwd=course.root, env=_terminal_env(), timeout=300
    )
    assert session.returncode == 1
    assert session.screen.count(b"(kept from an earlier run)") == len(before)
    after = {s: r.graded_at for s, r in ResultStore(course.root, LESSON).all().items()}
    assert after == before
    assert auto_scores(default_db_url(course.root), LESSON) == gradebook

    for command in ("report", "feedback"):
        done = run_on_terminal(
            [sys.executable, "-m", "course_lib.cli", command, LESSON],
            cwd=course.root,
            env=_terminal_env(),
            timeout=300,
        )
        assert done.returncode == 0, done.screen[-2000:]
    page = (course.root / "reports" / f"{LESSON}.html").read_text(encoding="utf-8")
    assert "$x^$" in page and "caf\\xe9" in page
    feedback = course.root / "feedback" / "lambda" / LESSON / f"{LESSON}.html"
    assert "could not be reloaded for grading" in feedback.read_text(encoding="utf-8")
