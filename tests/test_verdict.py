"""The graders' process started before the hand-in exists: it waits, confined, then reads it."""

from __future__ import annotations

import json
import textwrap

import psutil
import pytest

from course_lib.grader.settings import DEFAULT_LIMITS
from course_lib.grader.verdict import Verdict

pytestmark = pytest.mark.slow

GRADERS = textwrap.dedent(
    """
    import pytest

    def test_answer(handin):
        assert handin.value("answer") == 42

    def test_execution_record(handin):
        assert handin.execution["stopped"] == "given after the start"

    def test_secret(handin):
        with pytest.raises(PermissionError):
            open({secret!r}).read()

    def test_wrong_answer(handin):
        assert handin.value("answer") == 41, "answer: wrong value"

    def test_unforeseen(handin):
        int(float("nan"))
    """
)


def _graders(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("instructor only")
    folder = tmp_path / "autograder"
    folder.mkdir()
    grader_file = folder / "test_probe.py"
    grader_file.write_text(GRADERS.format(secret=str(secret)))
    handin = tmp_path / "handin"
    handin.mkdir()
    return grader_file, handin


def test_a_prestarted_process_reads_the_handin_written_after_it_started(tmp_path):
    grader_file, handin = _graders(tmp_path)
    with Verdict(grader_file, handin, DEFAULT_LIMITS) as verdict:
        (handin / "manifest.json").write_text(json.dumps({"answer": {"status": "ok"}}))
        (handin / "answer.json").write_text("42")
        verdicts = verdict.result(
            {"stopped": "given after the start"}, ["answer", "execution_record", "secret"]
        )
    first = ("answer", "execution_record", "secret")
    assert {name: verdicts[name].passed for name in first} == {
        "answer": True,
        "execution_record": True,
        "secret": True,  # confined as a process started after the hand-in is
    }


def test_a_process_never_given_the_handin_ends_with_its_tree(tmp_path):
    grader_file, handin = _graders(tmp_path)
    verdict = Verdict(grader_file, handin, DEFAULT_LIMITS)
    pid = verdict.waiting_pid
    assert psutil.pid_exists(pid)
    verdict.close()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not verdict.private.exists()


def test_a_grader_that_fails_is_a_fault_of_the_kit_not_a_wrong_answer(tmp_path):
    grader_file, handin = _graders(tmp_path)
    (handin / "manifest.json").write_text(json.dumps({"answer": {"status": "ok"}}))
    (handin / "answer.json").write_text("42")
    with Verdict(grader_file, handin, DEFAULT_LIMITS) as verdict:
        verdicts = verdict.result({}, ["wrong_answer", "unforeseen"])
    wrong, unforeseen = verdicts["wrong_answer"], verdicts["unforeseen"]
    assert (wrong.passed, wrong.kit_fault) == (False, False)
    assert wrong.message.startswith("answer: wrong value")
    assert (unforeseen.passed, unforeseen.kit_fault) == (False, True)
    assert unforeseen.message == (
        "could not be graded: the grader failed (ValueError: cannot convert float NaN to integer)"
    )
