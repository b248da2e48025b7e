"""Run a lesson's hidden graders on a hand-in, in a fresh process outside the student's kernel.

The graders are plain pytest tests (``autograder/test_<lesson>.py``); this module runs
them with :mod:`course_lib.verdict_plugin`, which hands them the ``handin`` fixture and
writes one result per test. A grader process that crashes, hangs or runs out of memory
fails the tests it did not finish, with a message saying so.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from course_lib import warm
from course_lib.processes import Watch, run_watched
from course_lib.settings import Limits

GRADER_MEMORY_MB = 8192


@dataclass(frozen=True)
class TestVerdict:
    passed: bool
    message: str


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
            # the graders need only course_lib.verdict_plugin (given with -p): skip the scan
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
) -> dict[str, TestVerdict]:
    """Every test's verdict, keyed by test id (the grade cell's ``grade_id``)."""
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
            "course_lib.verdict_plugin",
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
        address = warm.inherited_address()
        finished = _run_warm(address, args, private, limits) if address else None
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
    for test_id in test_ids:
        if test_id not in verdicts:
            verdicts[test_id] = TestVerdict(False, f"could not be graded: {problem}")
    return verdicts


def _run_warm(address: warm.Address, args: list[str], private: Path, limits: Limits):
    """Run the graders in a child of the warm server, watched like a fresh process.

    None if the server cannot take the task (the caller then starts a fresh process).
    """
    stdout, stderr = private / "stdout.txt", private / "stderr.txt"
    try:
        task = warm.spawn(
            address, "verdict", args, cwd=str(private), stdout=str(stdout), stderr=str(stderr)
        )
    except OSError:
        return None
    watch = Watch(task.pid, timeout=limits.verdict_timeout, memory_mb=GRADER_MEMORY_MB)
    try:
        returncode = task.wait()
    finally:
        watch.stop()
    return watch.finished(returncode, _text(stdout), _text(stderr))


def _text(path: Path) -> str:
    return path.read_text(errors="replace") if path.is_file() else ""


def verdict_main(args: list[str]) -> int:
    """The graders' run inside a warm server's child (``pytest`` is already imported)."""
    import pytest

    return int(pytest.main(args))
