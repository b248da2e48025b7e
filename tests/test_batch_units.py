"""Do the parts of class grading behave, without running a notebook?

Status from a report, atomic result files, finding submissions and the CLI's refusals
(the progress line: test_progress.py; the pages: test_pages.py).
"""

from __future__ import annotations

import json

import nbformat
import pytest

from course_lib import cli
from course_lib.classroom.batch import find_submissions
from course_lib.classroom.gradebook import ReplayGraded
from course_lib.classroom.store import ResultStore, SubmissionResult, fingerprint
from course_lib.grader.execution import ExecutionOutcome
from course_lib.grader.report import Status

from .conftest import ROOT, copy_course, submission_result

LESSON = "01_regression"
DIED = "the kernel died (exit status 3) in the cell starting `x`"
MEMORY = "the kernel used more than 2048 MB of memory and was stopped in the cell starting `x`"
CELL = "a cell was stopped: the cell ran longer than 20 s and was stopped"
STUCK = "the cell ran longer than 20 s and ignored the interrupt, so the kernel was stopped"


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([], (Status.GRADED, None)),
        ([(Status.CRASHED, DIED, True)], (Status.CRASHED, DIED)),
        ([(Status.CRASHED, DIED, True), (Status.MEMORY, MEMORY, True)], (Status.MEMORY, MEMORY)),
        ([(Status.TIMED_OUT, CELL, False), (Status.CRASHED, DIED, True)], (Status.TIMED_OUT, CELL)),
        (
            [(Status.TIMED_OUT, CELL, False), (Status.TIMED_OUT, STUCK, True)],
            (Status.TIMED_OUT, STUCK),
        ),
        (
            [(Status.MEMORY, MEMORY, True), (Status.ERROR, "no kernel", True)],
            (Status.ERROR, "no kernel"),
        ),
    ],
)
def test_status_is_the_worst_thing_that_happened(events, expected):
    outcome = ExecutionOutcome(nbformat.v4.new_notebook())
    for status, reason, kernel_stopped in events:
        outcome.record(status, reason, kernel_stopped=kernel_stopped)
    assert (outcome.status, outcome.status_reason) == expected


def test_results_are_kept_per_fingerprint_and_written_whole(tmp_path):
    store = ResultStore(tmp_path, LESSON)
    submission = tmp_path / "a.ipynb"
    submission.write_text("{}")
    sha = fingerprint(submission)
    store.save(submission_result("ada", fingerprint=sha))
    store.save_notebook("ada", {"cells": []})
    assert store.current("ada", sha).status is Status.GRADED
    submission.write_text('{"changed": 1}')
    assert store.current("ada", fingerprint(submission)) is None  # a resubmission is regraded
    store.save_notebook("ada", None)
    assert sorted(p.name for p in store.folder.iterdir()) == ["ada.json"]  # no temp files left
    assert list(store.all()) == ["ada"]


def test_a_fault_of_the_kit_is_never_a_finalsubmission_result(tmp_path):
    store = ResultStore(tmp_path, LESSON)
    store.save(submission_result("ada", status=Status.ERROR, passed=False, fingerprint="f00"))
    assert store.load("ada").status is Status.ERROR
    assert store.current("ada", "f00") is None  # graded again by the next run


def test_results_file_keeps_its_format(tmp_path):
    store = ResultStore(tmp_path, LESSON)
    store.save(submission_result("ada", status=Status.CRASHED, passed=False))
    stored = json.loads(store.path("ada").read_text(encoding="utf-8"))
    assert stored["status"] == "crashed" and stored["format"] == 1
    assert set(stored) >= {"student", "lesson", "status", "reason", "report", "fingerprint"}
    assert set(stored["report"]) == {
        "lesson", "score", "max_score", "tests", "ungradable", "tampering", "incidents",
        "seconds", "peak_mb", "landlock_abi",
    }  # fmt: skip
    assert SubmissionResult.from_json(stored) == store.load("ada")


def test_submissions_are_found_in_nbgraders_layout(tmp_path):
    for student in ("bo", "al"):
        (tmp_path / student / LESSON).mkdir(parents=True)
    (tmp_path / "cy" / "02_classification").mkdir(parents=True)
    found = find_submissions(tmp_path, LESSON)
    assert [(s.student, s.path.name) for s in found] == [
        ("al", f"{LESSON}.ipynb"),
        ("bo", f"{LESSON}.ipynb"),
    ]
    assert find_submissions(tmp_path / "nowhere", LESSON) == []


def test_replay_without_a_graded_notebook_fails_every_test():
    notebook = nbformat.read(ROOT / "source" / LESSON / f"{LESSON}.ipynb", as_version=4)
    replay = ReplayGraded(reason="file is damaged")
    replayed, _ = replay.preprocess(notebook, {})
    verdicts = [
        c.outputs
        for c in replayed.cells
        if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"]["solution"]
    ]
    assert verdicts and all(o[0]["evalue"] == "not graded: file is damaged" for o in verdicts)


@pytest.fixture
def bare_course(tmp_path):
    return copy_course(tmp_path).root


def test_grading_a_class_needs_submissions_and_a_released_lesson(bare_course, capsys):
    args = ["--course-dir", str(bare_course), "grade"]
    assert cli.main([*args, "all", "--all"]) == 2
    assert "no submissions found" in capsys.readouterr().err
    (bare_course / "submitted" / "ada" / LESSON).mkdir(parents=True)
    assert cli.main([*args, LESSON, "--all"]) == 2
    assert f"run `course release {LESSON}` first" in capsys.readouterr().err
    assert cli.main(["--course-dir", str(bare_course), "feedback", LESSON]) == 2
