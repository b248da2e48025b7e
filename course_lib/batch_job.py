"""Grade one submission of a batch in a fresh process, wherever a pool or Dask runs it.

:func:`run_job` is what a worker executes: it writes the submission into a private temp
folder and runs ``python -m course_lib.batch_job JOB RESULT`` there, so nothing a
submission does can take the worker down. That process calls
:func:`course_lib.grading.grade_notebook` and writes one JSON result; it kills its own
process tree if the process that started it dies (an interrupted batch leaves no kernels).
"""

from __future__ import annotations

import contextlib
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

import psutil

from course_lib.processes import kill_tree
from course_lib.settings import Limits

STATUSES = ("graded", "timed out", "crashed", "memory", "ungradable")
PROCESS_MARGIN = 300
"""Seconds the grading process may take beyond the notebook and grader limits."""

_running: set[subprocess.Popen] = set()
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


def submission_status(report: dict, graded_notebook: dict | None) -> tuple[str, str | None]:
    """``(status, reason)`` of a graded submission: the worst thing that happened to it."""
    if report.get("ungradable"):
        return "ungradable", report["ungradable"]
    incidents = report.get("incidents") or []
    for words, status in (("MB of memory", "memory"), ("ran longer than", "timed out")):
        found = [i for i in incidents if words in i]
        if found:
            return status, found[0]
    timeouts = [
        output.get("evalue", "")
        for cell in (graded_notebook or {}).get("cells", [])
        for output in cell.get("outputs", [])
        if output.get("ename") == "CellTimeoutError"
    ]
    if timeouts:
        return "timed out", f"a cell was stopped: {timeouts[0]}"
    died = [i for i in incidents if "died" in i]
    if died:
        return "crashed", died[0]
    return "graded", None


def _grade(job: Job) -> dict:
    """Grade ``job`` in this process (the body of the fresh grading process)."""
    from course_lib.course import Course
    from course_lib.grading import grade_notebook

    folder = Path.cwd() / "submission"
    folder.mkdir(exist_ok=True)
    submission = folder / job.filename
    submission.write_bytes(job.content)
    graded = folder / "graded.ipynb"
    report = grade_notebook(
        submission,
        course=Course(Path(job.course_root)),
        lesson=job.lesson,
        limits=Limits(**job.limits),
        graded_copy=graded,
    )
    notebook = json.loads(graded.read_text(encoding="utf-8")) if graded.is_file() else None
    data = report.as_json()
    data.update(
        ungradable=report.ungradable,
        tampering=report.tampering,
        incidents=report.incidents,
        seconds=report.seconds,
        peak_mb=report.peak_mb,
    )
    status, reason = submission_status(data, notebook)
    return {"status": status, "reason": reason, "report": data, "graded_notebook": notebook}


def failed_result(job: Job, reason: str) -> dict:
    """The result of a job whose grading process itself failed: every test scores 0."""
    from course_lib.course import Course

    tests = [
        {
            "id": t.id,
            "points": 0.0,
            "max_points": t.points,
            "passed": False,
            "message": f"not graded: {reason}",
        }
        for t in Course(Path(job.course_root)).tests(job.lesson)
    ]
    report = {
        "lesson": job.lesson,
        "score": 0.0,
        "max_score": float(sum(t["max_points"] for t in tests)),
        "tests": tests,
        "ungradable": None,
        "tampering": [],
        "incidents": [reason],
        "seconds": 0.0,
        "peak_mb": 0,
    }
    return {"status": "crashed", "reason": reason, "report": report, "graded_notebook": None}


def run_job(job: Job, threads: int | None = None) -> dict:
    """Grade ``job`` in a fresh process and return its result (never raises for the job)."""
    limits = Limits(**job.limits)
    if threads:
        job = Job(**{**asdict(job), "limits": {**job.limits, "threads": threads}})
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="course-job-") as tmp:
        job_file, result_file = Path(tmp) / "job.json", Path(tmp) / "result.json"
        payload = {**asdict(job), "content": job.content.decode("latin-1")}
        job_file.write_text(json.dumps(payload), encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, "-m", "course_lib.batch_job", str(job_file), str(result_file)],
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        with _running_lock:
            _running.add(process)
        budget = limits.notebook_timeout + limits.verdict_timeout + PROCESS_MARGIN
        try:
            _, stderr = process.communicate(timeout=budget)
        except subprocess.TimeoutExpired:
            kill_tree(process.pid)
            process.wait()
            return _stamped(failed_result(job, f"grading took longer than {budget} s"), started)
        finally:
            if process.returncode is None:
                kill_tree(process.pid)
            with _running_lock:
                _running.discard(process)
        try:
            result = json.loads(result_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            tail = " / ".join(stderr.decode(errors="replace").strip().splitlines()[-2:])
            reason = f"the grading process died (exit status {process.returncode})"
            return _stamped(failed_result(job, f"{reason}: {tail}" if tail else reason), started)
    return _stamped(result, started)


def kill_running() -> None:
    """Kill every grading process this process started that is still running."""
    with _running_lock:
        processes = list(_running)
    for process in processes:
        kill_tree(process.pid)


def _stamped(result: dict, started: float) -> dict:
    result["wall_seconds"] = round(time.monotonic() - started, 2)
    result["host"] = socket.gethostname()
    return result


def _die_with_parent() -> None:
    """Kill this process tree when the process that started it goes away."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        for _ in range(3):  # again, in case a child was being started during the first pass
            for child in psutil.Process().children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    child.kill()
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def main(argv: list[str]) -> int:
    _die_with_parent()
    job_file, result_file = (Path(a) for a in argv)
    payload = json.loads(job_file.read_text(encoding="utf-8"))
    job = Job(**{**payload, "content": payload["content"].encode("latin-1")})
    result = _grade(job)
    partial = result_file.with_suffix(".tmp")
    partial.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, result_file)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
