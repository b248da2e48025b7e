"""Run a lesson's hidden graders on a hand-in, in a fresh process outside the student's kernel.

The graders are plain pytest tests (``autograder/test_<lesson>.py``); this module runs
them with :mod:`course_lib.grader.verdict_plugin`, which hands them the ``handin`` fixture and
writes one result per test. A grader process that crashes, hangs or runs out of memory
fails the tests it did not finish, with a message saying so.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from course_lib.grader.processes import Finished, run_watched
from course_lib.grader.settings import Limits

GRADER_MEMORY_MB = 8192

GraderRunner = Callable[[list[str], Path, Limits], Finished | None]
"""Runs pytest with these arguments in that private folder, watched like a fresh process.

Returns how it ended, or None when it cannot take the run (the caller then starts a cold
process). The classroom's warm server provides one (:func:`course_lib.classroom.warm.
grader_runner`); without one, the graders start in a fresh interpreter.
"""


@dataclass(frozen=True)
class TestVerdict:
    __test__ = False  # not a pytest test class

    passed: bool
    message: str
    kit_fault: bool = False
    """The graders themselves could not run (not the submission's doing)."""


def grader_env(limits: Limits) -> dict[str, str]:
    """A small, explicit environment for the grader process."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "KERAS_HOME", "VIRTUAL_ENV", "PYTHONPATH")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update(limits.thread_env())
    env.update(
        {
            "PYTHONHASHSEED": "0",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "CUDA_VISIBLE_DEVICES": "",
            "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1",
            # the graders need only course_lib.grader.verdict_plugin (given with -p): skip the scan
            # of installed plugins (xdist, anyio...), 0.3 s per hand-in
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        }
    )
    return env


def run_verdict(
    grader_file: Path,
    handin_dir: Path,
    execution: dict,
    test_ids: list[str],
    limits: Limits,
    runner: GraderRunner | None = None,
) -> dict[str, TestVerdict]:
    """Every test's verdict, keyed by test id (the grade cell's ``grade_id``).

    ``runner`` starts the graders' process (default: a fresh interpreter).
    """
    with tempfile.TemporaryDirectory(prefix="course-verdict-") as tmp:
        private = Path(tmp)
        (private / "execution.json").write_text(json.dumps(execution), encoding="utf-8")
        (private / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        out = private / "verdicts.json"
        args = [
            str(grader_file),
            "-c",
            str(private / "pytest.ini"),
            "--rootdir",
            str(grader_file.parent),
            "-p",
            "course_lib.grader.verdict_plugin",
            "-p",
            "no:cacheprovider",
            "-q",
            "--no-header",
            "-W",
            "ignore",
            f"--handin={handin_dir}",
            f"--execution={private / 'execution.json'}",
            f"--verdict-out={out}",
        ]
        finished = runner(args, private, limits) if runner else None
        if finished is None:
            finished = run_watched(
                [sys.executable, "-m", "pytest", *args],
                timeout=limits.verdict_timeout,
                memory_mb=GRADER_MEMORY_MB,
                env=grader_env(limits),
                cwd=str(private),
            )
        try:
            raw = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raw = {}
    verdicts = {
        test_id: TestVerdict(bool(v["passed"]), str(v["message"])) for test_id, v in raw.items()
    }
    if finished.reason == "timeout":
        problem = f"the graders ran longer than {limits.verdict_timeout} s on this hand-in"
    elif finished.reason == "memory":
        problem = f"the graders needed more than {GRADER_MEMORY_MB} MB on this hand-in"
    else:
        tail = (finished.stderr or finished.stdout or "").strip().splitlines()[-3:]
        problem = "the graders could not run" + (": " + " / ".join(tail) if tail else "")
    kit_fault = finished.reason is None
    for test_id in test_ids:
        if test_id not in verdicts:
            verdicts[test_id] = TestVerdict(False, f"could not be graded: {problem}", kit_fault)
    return verdicts
