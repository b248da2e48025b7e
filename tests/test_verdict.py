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
    assert {name: v.passed for name, v in verdicts.items()} == {
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
