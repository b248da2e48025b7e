"""Grade one submission of a batch in a fresh process, wherever a pool or Dask runs it.

:func:`run_job` is what a worker executes: it writes the submission into a private temp
folder and runs :func:`main` there in a fresh process (forked by the pool's warm server,
:mod:`course_lib.classroom.warm`, or ``python -m course_lib.classroom.job JOB RESULT``
while it warms up), so nothing a submission does can take the worker down. That process calls
:func:`course_lib.grader.grade.grade_notebook` and writes one JSON result; it kills its own
process tree if the process that started it dies (an interrupted batch leaves no kernels).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from course_lib.classroom import warm
from course_lib.grader import confine
from course_lib.grader.course import Course
from course_lib.grader.processes import end_with, kill_tree
from course_lib.grader.report import GradeReport, Status, TestResult
from course_lib.grader.settings import Limits

PROCESS_MARGIN = 300
"""Seconds the grading process may take beyond the notebook and grader limits."""

_running: set[int] = set()
_running_lock = threading.Lock()


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to grade one student's notebook of one lesson."""

    course_root: str
    lesson: str
    student: str
    filename: str
    content: bytes
    fingerprint: str
    limits: dict = field(default_factory=dict)


@dataclass
class JobResult:
    """What a worker hands back for one job: the report, its status and the graded notebook."""

    status: Status
    reason: str | None
    report: GradeReport
    graded_notebook: dict | None = None
    wall_seconds: float = 0.0
    host: str = ""

    def as_json(self) -> dict:
        return {
            "status": str(self.status),
            "reason": self.reason,
            "report": self.report.as_record(),
            "graded_notebook": self.graded_notebook,
        }

    @classmethod
    def from_json(cls, data: dict) -> JobResult:
        status = Status(data["status"])
        return cls(
            status,
            data.get("reason"),
            GradeReport.from_record(data["report"], status, data.get("reason")),
            data.get("graded_notebook"),
        )


def _grade(job: Job) -> JobResult:
    """Grade ``job`` in this process (the body of the fresh grading process)."""
    from course_lib.grader.course import Course
    from course_lib.grader.grade import grade_notebook

    folder = Path.cwd() / "submission"
    folder.mkdir(exist_ok=True)
    submission = folder / job.filename
    submission.write_bytes(job.content)
    graded = folder / "graded.ipynb"
    address = warm.inherited_address()
    report = grade_notebook(
        submission,
        course=Course(Path(job.course_root)),
        lesson=job.lesson,
        limits=Limits(**job.limits),
        graded_copy=graded,
        graders=warm.grader_runner(address) if address else None,
        kernel_server=asdict(address) if address else None,
    )
    notebook = json.loads(graded.read_text(encoding="utf-8")) if graded.is_file() else None
    return JobResult(report.status, report.reason, report, notebook)


def unfinished_result(course: Course, lesson: str, reason: str, status: Status) -> JobResult:
    """A result without a grading: every test scores 0 and says why."""
    report = GradeReport(lesson=lesson, status=status, reason=reason)
    if status is Status.UNGRADABLE:
        report.ungradable = reason
    else:
        report.incidents.append(reason)
    for test in course.tests(lesson):
        report.tests.append(TestResult(test.id, 0.0, test.points, False, f"not graded: {reason}"))
    return JobResult(status, reason, report)


def failed_result(job: Job, reason: str) -> JobResult:
    """The result of a job whose grading process itself failed: a fault of the kit."""
    return unfinished_result(Course(Path(job.course_root)), job.lesson, reason, Status.ERROR)


def run_job(
    job: Job, threads: int | None = None, server: warm.WarmServer | None = None
) -> JobResult:
    """Grade ``job`` in a fresh process and return its result (never raises for the job).

    The process is forked by the warm ``server`` once it is ready; before that (or without
    one) it starts cold, and still asks the server to run its graders.
    """
    limits = Limits(**job.limits)
    if threads:
        job = Job(**{**asdict(job), "limits": {**job.limits, "threads": threads}})
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="course-job-") as tmp:
        job_file, result_file = Path(tmp) / "job.json", Path(tmp) / "result.json"
        stderr_file = Path(tmp) / "stderr.txt"
        address = server.address if server and server.alive() else None
        payload = {
            **asdict(job),
            "content": job.content.decode("latin-1"),
            "server": asdict(address) if address else None,
        }
        job_file.write_text(json.dumps(payload), encoding="utf-8")
        forked = address if server and server.ready() else None
        process = _start([str(job_file), str(result_file)], tmp, stderr_file, forked)
        with _running_lock:
            _running.add(process.pid)
        budget = limits.notebook_timeout + limits.verdict_timeout + PROCESS_MARGIN
        returncode = None
        try:
            returncode = process.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            return _stamped(failed_result(job, f"grading took longer than {budget} s"), started)
        finally:
            if returncode is None:  # timed out, or this thread was interrupted
                kill_tree(process.pid)
                process.wait()
            with _running_lock:
                _running.discard(process.pid)
        try:
            result = JobResult.from_json(json.loads(result_file.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            stderr = stderr_file.read_text(errors="replace") if stderr_file.is_file() else ""
            tail = " / ".join(stderr.strip().splitlines()[-2:])
            reason = f"the grading process died (exit status {returncode})"
            return _stamped(failed_result(job, f"{reason}: {tail}" if tail else reason), started)
    return _stamped(result, started)


def _start(argv: list[str], cwd: str, stderr_file: Path, server: warm.Address | None):
    """The grading process for ``argv``: a warm server's child, or a fresh interpreter."""
    if server is not None:
        try:
            return warm.spawn(server, "job", argv, cwd=cwd, stderr=str(stderr_file))
        except OSError:
            pass  # the server is gone: grade cold
    with stderr_file.open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-P", "-m", "course_lib.classroom.job", *argv],
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": confine.python_path()},  # this very course_lib
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )


def kill_running() -> None:
    """Kill every grading process this process started that is still running."""
    with _running_lock:
        pids = list(_running)
    for pid in pids:
        kill_tree(pid)


def _stamped(result: JobResult, started: float) -> JobResult:
    result.wall_seconds = round(time.monotonic() - started, 2)
    result.host = socket.gethostname()
    return result


def main(argv: list[str]) -> int:
    end_with(os.getppid())  # an interrupted batch leaves no kernels behind
    job_file, result_file = (Path(a) for a in argv)
    payload = json.loads(job_file.read_text(encoding="utf-8"))
    server = payload.pop("server", None)
    if server and not warm.inherited_address():
        warm.use(warm.Address(**server))  # started cold: the graders can still run warm
    job = Job(**{**payload, "content": payload["content"].encode("latin-1")})
    result = _grade(job)
    partial = result_file.with_suffix(".tmp")
    partial.write_text(json.dumps(result.as_json(), ensure_ascii=False), encoding="utf-8")
    os.replace(partial, result_file)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
