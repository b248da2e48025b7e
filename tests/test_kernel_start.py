"""A kernel that dies before any code of the student's ran is started again, once."""

from __future__ import annotations

import sys

import nbformat
import pytest

from course_lib.grader.execution import execute_notebook
from course_lib.grader.report import Status
from course_lib.grader.settings import Limits

pytestmark = pytest.mark.slow

LIMITS = Limits(threads=1, cell_timeout=30)


def failing_python(tmp_path, starts_failing: int):
    """A kernel interpreter whose first ``starts_failing`` starts die at once."""
    script = tmp_path / "python"
    count = tmp_path / "starts"
    script.write_text(
        "#!/bin/sh\n"
        f'echo x >> "{count}"\n'
        f'if [ "$(wc -l < "{count}")" -le {starts_failing} ]; then exit 3; fi\n'
        f'exec "{sys.executable}" "$@"\n'
    )
    script.chmod(0o755)
    return script, count


def run(tmp_path, monkeypatch, starts_failing: int):
    script, count = failing_python(tmp_path, starts_failing)
    monkeypatch.setenv("COURSE_KERNEL_PYTHON", str(script))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    handin = tmp_path / "handin"
    handin.mkdir()
    outcome = execute_notebook(notebook, spec={}, limits=LIMITS, handin_dir=handin)
    return outcome, len(count.read_text().splitlines())


def test_a_kernel_that_died_starting_is_started_again(tmp_path, monkeypatch):
    outcome, starts = run(tmp_path, monkeypatch, starts_failing=1)
    assert starts == 2
    assert outcome.status is not Status.ERROR, outcome.incidents
    assert outcome.notebook.cells[0].outputs[0]["text"] == "42\n"


def test_a_kernel_that_never_starts_is_an_error_to_look_at(tmp_path, monkeypatch):
    outcome, starts = run(tmp_path, monkeypatch, starts_failing=5)
    assert starts == 2  # once more, not forever
    assert outcome.status is Status.ERROR
    assert any("Kernel died before replying" in incident for incident in outcome.incidents)
    assert not outcome.notebook.cells[0].outputs
