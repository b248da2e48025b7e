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
from course_lib.grader.processes import Finished, Prestarted, run_watched
from course_lib.grader.settings import Limits

GRADER_MEMORY_MB = 8192
SANDBOX_OPTION = "--sandbox"
WAIT_OPTION = "--wait-for-handin"
"""After ``--sandbox FILE``: a cold process started early, waiting for the hand-in (stdin)."""

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
    return {
        **confine.tensorflow_env(limits.thread_env()),
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        # the graders need only course_lib.grader.verdict_plugin (given with -p): skip the scan
        # of installed plugins (xdist, anyio...), 0.3 s per hand-in
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }


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
    """A cold graders' process: ``python -P -m course_lib.grader.verdict --sandbox FILE ARGS``.

    With :data:`WAIT_OPTION` first among ``ARGS``, it imports Keras and collects the graders,
    then waits for a line on its standard input before it runs them (:class:`Verdict`).
    """
    args = confine_graders(argv)
    if args[:1] == [WAIT_OPTION]:
        args = [*args[1:], f"--handin-ready-fd={os.dup(0)}"]  # pytest points fd 0 at /dev/null
    return run_graders(args)


def _exit_now(code: int) -> None:
    """End at once: the verdicts are written (atomically), and tearing TensorFlow down takes
    seconds (measured: 4-7 s on a loaded machine) that nothing needs."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class Verdict:
    """The graders' process for one hand-in, set up before the hand-in exists.

    Without a ``runner``, a cold process starts at once: it confines itself exactly as a
    late one would, imports TensorFlow and collects the graders while the notebook still
    runs, then waits (its time and memory limits count from then on). :meth:`result` gives
    it the execution record and lets it read the hand-in, which the caller has taken over
    by then (the kernel and all its processes are dead). A runner (the warm server) forks
    a ready process at that moment instead. ``handin_dir`` must exist from the start
    (Landlock rules name existing folders).
    """

    def __init__(
        self,
        grader_file: Path,
        handin_dir: Path,
        limits: Limits,
        runner: GraderRunner | None = None,
    ) -> None:
        from course_lib.grader.course import grader_constant  # nbformat: not in the warm start

        grader_file = Path(grader_file).resolve()
        self.limits = limits
        self.runner = runner
        self._tmp = tempfile.TemporaryDirectory(prefix="course-verdict-")
        self.private = private = Path(self._tmp.name)
        out = private / "out"
        for folder in (out / "home", out / "tmp"):
            folder.mkdir(parents=True)
        allowed = grader_constant(grader_file, "KERAS_ALLOWED") or {}
        (private / "allowed.json").write_text(json.dumps(allowed), encoding="utf-8")
        (private / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        sandbox = _confinement(grader_file, Path(handin_dir).resolve(), private, out, limits)
        (private / "sandbox.json").write_text(
            json.dumps({"confinement": sandbox.as_dict(), "cwd": str(grader_file.parent)}),
            encoding="utf-8",
        )
        self.verdicts_file = out / "verdicts.json"
        self.args = [
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
            "-p",  # its clean-up runs gc.collect() 5 times: 3 s with TensorFlow loaded, and with
            "no:unraisableexception",  # -W ignore what it reports could change no verdict
            "-q",
            "--no-header",
            "-W",
            "ignore",
            f"--handin={handin_dir}",
            f"--execution={private / 'execution.json'}",
            f"--keras-allowed={private / 'allowed.json'}",
            f"--verdict-out={self.verdicts_file}",
        ]
        self._waiting = None
        if runner is None:
            self._waiting = Prestarted(
                self._command(WAIT_OPTION),
                memory_mb=GRADER_MEMORY_MB,
                env=grader_env(limits),
                cwd=str(private),
            )

    def _command(self, *options: str) -> list[str]:
        """A cold graders' process: :func:`main` with ``options`` after the sandbox file."""
        interpreter = [sys.executable, "-P", "-m", "course_lib.grader.verdict"]
        return [*interpreter, *self.args[:2], *options, *self.args[2:]]

    def result(self, execution: dict, test_ids: list[str]) -> dict[str, TestVerdict]:
        """Every test's verdict on the hand-in, keyed by test id (the grade cell's ``grade_id``)."""
        (self.private / "execution.json").write_text(json.dumps(execution), encoding="utf-8")
        timeout = self.limits.verdict_timeout
        finished = self.runner(self.args, self.private, self.limits) if self.runner else None
        if finished is None and self._waiting is not None:
            finished, self._waiting = self._waiting.go(timeout), None
        if finished is None:  # the warm server could not take it
            finished = run_watched(
                self._command(),
                timeout=timeout,
                memory_mb=GRADER_MEMORY_MB,
                env=grader_env(self.limits),
                cwd=str(self.private),
            )
        try:
            raw = json.loads(self.verdicts_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raw = {}
        return _verdicts(raw, finished, test_ids, self.limits)

    @property
    def waiting_pid(self) -> int | None:
        """The cold process waiting for the hand-in, if one is."""
        return self._waiting.process.pid if self._waiting else None

    def close(self) -> None:
        """Stop a process still waiting and remove the private folder."""
        if self._waiting is not None:
            self._waiting.cancel()
            self._waiting = None
        self._tmp.cleanup()

    def __enter__(self) -> Verdict:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def run_verdict(
    grader_file: Path,
    handin_dir: Path,
    execution: dict,
    test_ids: list[str],
    limits: Limits,
    runner: GraderRunner | None = None,
) -> dict[str, TestVerdict]:
    """Every test's verdict on a hand-in that is ready now, keyed by test id.

    ``runner`` starts the graders' process (default: a fresh interpreter).
    """
    with Verdict(grader_file, handin_dir, limits, runner) as verdict:
        return verdict.result(execution, test_ids)


def _verdicts(
    raw: dict, finished: Finished, test_ids: list[str], limits: Limits
) -> dict[str, TestVerdict]:
    verdicts = {
        test_id: TestVerdict(bool(v["passed"]), str(v["message"]), v.get("kit_fault") is True)
        for test_id, v in raw.items()
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
    _exit_now(main(sys.argv[1:]))
