"""Run a lesson's hidden graders on a hand-in, in a confined process outside the student's kernel.

The graders are plain pytest tests (``autograder/test_<lesson>.py``); this module runs
them with :mod:`course_lib.grader.verdict_plugin`, which hands them the ``handin`` fixture and
writes one result per test. The graders load what the student saved, so their process is
confined before pytest starts (:func:`confine`, the same rules for a cold interpreter and a
warm server's fork): it reads the Python installation, ``course_lib``, the grader files, the
Keras datasets and the hand-in, writes only its private output folder, has no network, no
capabilities and an environment of its own. A grader process that crashes, hangs or runs
out of memory fails the tests it did not finish, with a message saying so; one that could
not run at all is a fault of the kit (:attr:`TestVerdict.kit_fault`).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from course_lib.grader import confine
from course_lib.grader.processes import Finished, run_watched
from course_lib.grader.settings import Limits

GRADER_MEMORY_MB = 8192
SANDBOX_OPTION = "--sandbox"

GraderRunner = Callable[[list[str], Path, Limits], Finished | None]
"""Runs the graders' process with these arguments (:func:`main`'s) in that private folder.

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
    """The environment of a grader process: nothing of the instructor's but the Keras cache."""
    env = {**confine.base_env(), "KERAS_HOME": str(confine.keras_home())}
    env.update(limits.thread_env())
    env.update(
        {
            "PYTHONHASHSEED": "0",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "CUDA_VISIBLE_DEVICES": "",
            "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1",
            "JOBLIB_MULTIPROCESSING": "0",  # no probe of /dev/shm, which is not allowed
            # the graders need only course_lib.grader.verdict_plugin (given with -p): skip the scan
            # of installed plugins (xdist, anyio...), 0.3 s per hand-in
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        }
    )
    return env


def _confinement(
    grader_file: Path, handin_dir: Path, private: Path, out: Path, limits: Limits
) -> confine.Confinement:
    home = out / "home"
    python_path = confine.python_path_folder(private / "python")
    return confine.Confinement(
        read_only=[
            *confine.python_read_only_paths(),
            str(grader_file.parent),
            str(confine.keras_home()),
            str(handin_dir),
            str(private),
        ],
        read_write=[str(out)],
        env={
            **grader_env(limits),
            "PYTHONPATH": str(python_path),
            "HOME": str(home),
            "TMPDIR": str(out / "tmp"),
            "MPLCONFIGDIR": str(home / ".matplotlib"),
        },
    )


def confine_graders(argv: list[str]) -> list[str]:
    """Confine this process as ``--sandbox FILE`` says; return the pytest arguments after it.

    Runs first in a graders' process (cold or a warm fork), while it has a single thread.
    """
    if len(argv) < 2 or argv[0] != SANDBOX_OPTION:
        raise SystemExit("the graders' process needs --sandbox FILE first")
    config = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    confine.apply(confine.Confinement.from_dict(config["confinement"]))
    os.chdir(config["cwd"])  # pytest collects from the common folder of this and the graders
    return argv[2:]


def run_graders(args: list[str]) -> int:
    """pytest on the graders (already confined); its exit status."""
    import pytest

    return int(pytest.main(args))


def main(argv: list[str]) -> int:
    """A cold graders' process: ``python -P -m course_lib.grader.verdict --sandbox FILE ARGS``."""
    return run_graders(confine_graders(argv))


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
    from course_lib.grader.course import grader_constant  # nbformat: not in the warm server's start

    grader_file = Path(grader_file).resolve()
    with tempfile.TemporaryDirectory(prefix="course-verdict-") as tmp:
        private = Path(tmp)
        out = private / "out"
        for folder in (out / "home", out / "tmp"):
            folder.mkdir(parents=True)
        allowed = grader_constant(grader_file, "KERAS_ALLOWED") or {}
        (private / "execution.json").write_text(json.dumps(execution), encoding="utf-8")
        (private / "allowed.json").write_text(json.dumps(allowed), encoding="utf-8")
        (private / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        sandbox = _confinement(grader_file, Path(handin_dir).resolve(), private, out, limits)
        (private / "sandbox.json").write_text(
            json.dumps({"confinement": sandbox.as_dict(), "cwd": str(grader_file.parent)}),
            encoding="utf-8",
        )
        verdicts_file = out / "verdicts.json"
        args = [
            SANDBOX_OPTION,
            str(private / "sandbox.json"),
            str(grader_file),
            "-c",
            str(private / "pytest.ini"),
            "--rootdir",
            str(grader_file.parent),
            "--confcutdir",  # collect and look for conftest.py nowhere above the graders
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
            f"--keras-allowed={private / 'allowed.json'}",
            f"--verdict-out={verdicts_file}",
        ]
        finished = runner(args, private, limits) if runner else None
        if finished is None:
            finished = run_watched(
                [sys.executable, "-P", "-m", "course_lib.grader.verdict", *args],
                timeout=limits.verdict_timeout,
                memory_mb=GRADER_MEMORY_MB,
                env=grader_env(limits),
                cwd=str(private),
            )
        try:
            raw = json.loads(verdicts_file.read_text(encoding="utf-8"))
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
