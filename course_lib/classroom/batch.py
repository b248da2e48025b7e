"""Grade a whole class: find the submissions, grade them in parallel, keep every result.

Submissions are nbgrader's ``submitted/<student>/<lesson>/<lesson>.ipynb``. Each one is a
:class:`~course_lib.classroom.job.Job` run by a local pool or by a Dask ``distributed``
cluster (both through ``submit``/``completed``); each job grades in its own process. This
process alone stores each result the moment it arrives (:mod:`results`) and writes it into
nbgrader's gradebook (:mod:`gradebook`), one at a time. A rerun skips every submission
whose stored result was graded from the same file, unless ``force``.

Folder names and files are checked here, before anything reads them in full: a name that
cannot be a student id (:func:`course_lib.grader.names.id_problem`), a student or lesson
folder that is a symbolic link, a notebook that is a link, a FIFO or over the size limit,
each makes that one submission ungradable with the reason; the batch never stops for one
folder.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from course_lib.classroom import gradebook
from course_lib.classroom.job import (
    Job,
    JobResult,
    kill_running,
    run_job,
    unfinished_result,
)
from course_lib.classroom.progress import Progress
from course_lib.classroom.store import ResultStore, SubmissionResult
from course_lib.classroom.warm import WarmServer
from course_lib.grader import names
from course_lib.grader.course import Course
from course_lib.grader.files import RefusedFile, open_folder, read_regular
from course_lib.grader.report import Status
from course_lib.grader.settings import DEFAULT_LIMITS, Limits
from course_lib.grader.terminal import printable
from course_lib.grader.verdict import grader_env

MISSING = "missing"
IGNORED = {".ipynb_checkpoints", "__pycache__", ".course"}
"""Folders in ``submitted/`` that are not students (nbgrader's CourseDirectory.ignore)."""
MAX_TIMESTAMP_BYTES = 200


@dataclass(frozen=True)
class Submission:
    student: str
    lesson: str
    path: Path
    problem: str | None = None
    """Why it cannot be graded before its file is even read (None: read it)."""


@dataclass
class BatchResult:
    lesson: str
    submissions: list[SubmissionResult] = field(default_factory=list)
    wall_seconds: float = 0.0
    pool: str = "nothing left to grade"
    results_dir: Path | None = None
    autograded_dir: Path | None = None
    db_url: str = ""

    @property
    def needs_a_look(self) -> list[SubmissionResult]:
        return [s for s in self.submissions if s.needs_a_look]

    def render(self) -> str:
        """The per-student table and where the outputs went."""
        shown = {s.student: printable(s.student) for s in self.submissions}
        width = max([len(name) for name in shown.values()] + [7])
        lines = [
            f"{self.lesson}: {len(self.submissions)} submission(s) in "
            f"{self.wall_seconds:.0f} s ({self.pool})",
            f"  {'student':<{width}}  {'score':>7}  {'max':>5}  status",
        ]
        for s in self.submissions:
            status = printable(s.status + (f": {s.reason}" if s.reason else ""))
            kept = "  (kept from an earlier run)" if s.resumed else ""
            lines.append(
                f"  {shown[s.student]:<{width}}  {s.score:>7g}  {s.max_score:>5g}  "
                f"{status[:110]}{kept}"
            )
        abis = sorted({s.report.landlock_abi for s in self.submissions} - {None})
        lines += [
            "sandbox:    "
            + (f"Landlock ABI {', '.join(map(str, abis))}" if abis else "no notebook ran here"),
            f"results:    {self.results_dir}",
            f"autograded: {self.autograded_dir}",
            f"gradebook:  {self.db_url}",
        ]
        return "\n".join(lines)


def find_submissions(submitted_dir: Path, lesson: str) -> list[Submission]:
    """``submitted/<student>/<lesson>/<lesson>.ipynb`` for every student with that folder.

    A folder whose name cannot be a student id (then known by :func:`names.display` of it),
    or a student or lesson folder that is a symbolic link, is a submission with a ``problem``
    (graded as ungradable, nothing read).
    """
    submitted_dir = Path(submitted_dir)
    if not submitted_dir.is_dir():
        return []
    found = []
    with os.scandir(submitted_dir) as entries:
        for entry in entries:
            if entry.name in IGNORED or not entry.is_dir():  # follows a link: checked below
                continue
            folder = Path(entry.path)
            lesson_dir = folder / lesson
            if not lesson_dir.is_dir():
                continue
            problem = names.id_problem(entry.name)
            student = entry.name if problem is None else names.display(entry.name)
            if problem is None and entry.is_symlink():
                problem = "the student folder is a symbolic link, not a submission"
            if problem is None and lesson_dir.is_symlink():
                problem = f"the {lesson} folder is a symbolic link, not a submission"
            found.append(Submission(student, lesson, lesson_dir / f"{lesson}.ipynb", problem))
    return sorted(found, key=lambda s: s.student)


def read_submitted(submission: Submission, max_bytes: int, name: str | None = None) -> bytes:
    """The bytes of a file in a submission folder, every folder on the way checked again.

    ``name`` defaults to the notebook. Raises FileNotFoundError, or :class:`RefusedFile` for
    a link (at any level below ``submitted/``), a FIFO, a device or a file over ``max_bytes``.
    """
    path = submission.path if name is None else submission.path.parent / name
    student_fd = open_folder(path.parent.parent)  # its parent, submitted/, is the instructor's
    try:
        lesson_fd = open_folder(Path(path.parent.name), dir_fd=student_fd)
        try:
            return read_regular(Path(path.name), max_bytes, dir_fd=lesson_fd)
        finally:
            os.close(lesson_fd)
    finally:
        os.close(student_fd)


def _timestamp(submission: Submission) -> str | None:
    """The submission's ``timestamp.txt`` (nbgrader's late-submission record), if sound."""
    text = _small_text(submission, "timestamp.txt")
    return text if text and printable(text) == text else None


def _submission_secret(submission: Submission) -> str | None:
    """The ``submission_secret.txt`` nbgrader's ``submit`` wrote, if sound (hex digits only).

    ``nbgrader release_feedback`` names a student's feedback after it; nothing else of the
    student's folder reaches nbgrader.
    """
    text = _small_text(submission, "submission_secret.txt")
    return text if text and re.fullmatch(r"[0-9a-f]{16,256}", text) else None


def _small_text(submission: Submission, name: str) -> str | None:
    """A small text file beside the submitted notebook, stripped; None if absent or unsound."""
    try:
        text = read_submitted(submission, MAX_TIMESTAMP_BYTES, name).decode("utf-8")
    except (OSError, RefusedFile, UnicodeDecodeError):
        return None
    return text.strip() or None


def default_workers(limits: Limits) -> int:
    """As many workers as cores, as long as each can have its memory cap."""
    import psutil

    by_memory = psutil.virtual_memory().total // (limits.memory_mb * 2**20)
    return max(1, min(os.cpu_count() or 1, int(by_memory)))


def start_warm_server(threads: int) -> WarmServer:
    """A warm server whose tasks use ``threads`` CPU threads.

    If it cannot start, every submission starts its processes cold: slower, same grades.
    """
    return WarmServer({**os.environ, **grader_env(Limits(threads=threads))})


class LocalPool:
    """``workers`` grading processes at a time on this machine."""

    def __init__(self, workers: int, limits: Limits) -> None:
        self.threads = limits.threads or max(1, (os.cpu_count() or 1) // workers)
        self.executor = concurrent.futures.ThreadPoolExecutor(workers, "course-grade")
        self.server = start_warm_server(self.threads)
        self.label = f"{workers} local worker(s) × {self.threads} thread(s), warm server"

    def submit(self, job: Job, on_start: Callable[[], None] | None = None):
        """Grade ``job`` on the next free worker; ``on_start`` is called when it starts."""
        return self.executor.submit(self._grade, job, on_start)

    def _grade(self, job: Job, on_start: Callable[[], None] | None) -> JobResult:
        if on_start is not None:
            on_start()
        return run_job(job, self.threads, self.server)

    def completed(self, futures: list) -> Iterator:
        return concurrent.futures.as_completed(futures)

    def close(self, cancel: bool = False) -> None:
        if cancel:
            self.executor.shutdown(wait=False, cancel_futures=True)
            kill_running()
        self.executor.shutdown(wait=True)
        self.server.stop()


_worker_servers: dict[int, WarmServer] = {}
_worker_servers_lock = threading.Lock()


def _worker_server(threads: int) -> WarmServer:
    """This Dask worker process's warm server for ``threads`` (started on first use)."""
    with _worker_servers_lock:
        if threads not in _worker_servers:
            _worker_servers[threads] = start_warm_server(threads)
        return _worker_servers[threads]


def run_on_dask_worker(job: Job, slots_by_host: dict[str, int], threads: int) -> JobResult:
    """The Dask task: grade with this host's cores shared among its Dask worker threads."""
    if not threads:
        from distributed import get_worker

        host = urlparse(get_worker().address).hostname or socket.gethostname()
        threads = max(1, (os.cpu_count() or 1) // max(1, slots_by_host.get(host, 1)))
    return run_job(job, threads, _worker_server(threads))


class DaskPool:
    """The same jobs on an existing Dask ``distributed`` cluster."""

    def __init__(self, address: str, limits: Limits) -> None:
        from distributed import Client

        self.client = Client(address, timeout=30)
        workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        self.slots_by_host: dict[str, int] = {}
        for worker in workers:
            host = worker["host"]
            self.slots_by_host[host] = self.slots_by_host.get(host, 0) + worker["nthreads"]
        self.threads = limits.threads
        self.futures: list = []
        self.label = f"Dask at {address}: {sum(self.slots_by_host.values())} worker thread(s)"

    def submit(self, job: Job, on_start: Callable[[], None] | None = None):
        """Queue ``job`` on the cluster (when a worker starts it is not observed here)."""
        future = self.client.submit(
            run_on_dask_worker,
            job,
            self.slots_by_host,
            self.threads,
            key=f"grade-{job.lesson}-{job.student}-{job.fingerprint[:12]}",
            pure=False,
        )
        self.futures.append(future)
        return future

    def completed(self, futures: list) -> Iterator:
        from distributed import as_completed

        return iter(as_completed(futures))

    def close(self, cancel: bool = False) -> None:
        if cancel and self.futures:
            self.client.cancel(self.futures)
        self.client.close()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _Batch:
    """One lesson's run: stores and records each result as it arrives."""

    def __init__(self, course: Course, lesson: str, submitted_dir: Path, db_url: str, limits):
        self.course = course
        self.lesson = lesson
        self.submitted_dir = submitted_dir
        self.db_url = db_url
        self.limits = limits
        self.store = ResultStore(course.root, lesson)

    def job(self, submission: Submission, sha256: str, content: bytes) -> Job:
        return Job(
            course_root=str(self.course.root),
            lesson=self.lesson,
            student=submission.student,
            filename=submission.path.name,
            content=content,
            fingerprint=sha256,
            limits=asdict(self.limits),
        )

    def keep(self, submission: Submission, sha256: str, job: JobResult) -> SubmissionResult:
        """Store a fresh result atomically, then record it in the gradebook."""
        result = SubmissionResult(
            student=submission.student,
            lesson=self.lesson,
            status=job.status,
            reason=job.reason,
            report=job.report,
            fingerprint=sha256,
            submission=str(submission.path),
            graded_at=_now(),
            wall_seconds=job.wall_seconds,
            host=job.host,
        )
        self.store.save_notebook(submission.student, job.graded_notebook)
        self.store.save(result)
        sound = submission.problem is None
        self.record(
            result,
            _timestamp(submission) if sound else None,
            _submission_secret(submission) if sound else None,
        )
        return result

    def record(
        self,
        result: SubmissionResult,
        timestamp: str | None = None,
        submission_secret: str | None = None,
    ) -> None:
        """Write ``result`` into the gradebook, unless the kit failed (then nobody's grade).

        A student id that nbgrader cannot hold (:func:`names.id_problem`) is never recorded:
        its submission is ungradable for that reason, and the table says so.
        """
        if result.status is Status.ERROR or names.id_problem(result.student):
            return
        notebook = self.store.notebook_path(result.student)
        result.gradebook_errors = gradebook.record(
            self.course.root,
            self.lesson,
            result.student,
            db_url=self.db_url,
            graded_notebook=notebook if notebook.is_file() else None,
            release_notebook=self.course.release_notebook_path(self.lesson),
            reason=result.reason,
            timestamp=timestamp,
            submission_secret=submission_secret,
        )
        result.recorded = True
        self.store.save(result)


def _missing_result(course: Course, submission: Submission) -> JobResult:
    try:
        with os.scandir(submission.path.parent) as entries:
            found = sorted(e.name for e in entries if e.name.endswith(".ipynb"))
    except OSError:
        found = []
    reason = f"no {submission.path.name} in the submission folder" + (
        f" (found {', '.join(found)})" if found else ""
    )
    return unfinished_result(course, submission.lesson, reason, Status.UNGRADABLE)


def _refused_fingerprint(submission: Submission, reason: str) -> str:
    """A fingerprint for a submission that was not read: its reason and what the path is."""
    try:
        info = os.lstat(submission.path)
        seen = f"{info.st_mode}:{info.st_size}:{info.st_mtime_ns}:{info.st_ino}"
    except OSError:
        seen = MISSING
    text = f"{reason}|{seen}".encode("utf-8", "surrogateescape")
    return "refused:" + hashlib.sha256(text).hexdigest()


def grade_class(
    course: Course,
    lesson: str,
    *,
    submitted_dir: Path | None = None,
    scheduler: str | None = None,
    force: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    db_url: str | None = None,
    progress: Callable[[int], Progress] | None = None,
) -> BatchResult:
    """Grade every submission of ``lesson``; resumable, one result file per submission."""
    course.check_lesson(lesson)
    submitted_dir = Path(submitted_dir or course.root / "submitted").resolve()
    db_url = db_url or gradebook.default_db_url(course.root)
    gradebook.check_assignment(db_url, lesson)
    started = time.monotonic()
    batch = _Batch(course, lesson, submitted_dir, db_url, limits)
    outcome = BatchResult(
        lesson,
        results_dir=batch.store.folder,
        autograded_dir=course.root / "autograded",
        db_url=db_url,
    )
    with gradebook.exclusive(course.root, f"batch-{lesson}", wait=False):
        done, todo = _plan(batch, find_submissions(submitted_dir, lesson), force)
        bar = progress(len(todo)) if progress else None
        for result in done:
            result.resumed = True
            if not result.recorded:
                batch.record(result)
        if bar and done:
            bar.note(f"{lesson}: {len(done)} submission(s) already graded, kept (--force regrades)")
        outcome.submissions = list(done)
        try:
            outcome.submissions += _run(batch, todo, scheduler, limits, bar, outcome)
        finally:
            if bar:
                bar.close()
    outcome.submissions.sort(key=lambda s: s.student)
    outcome.wall_seconds = round(time.monotonic() - started, 2)
    return outcome


@dataclass
class _Todo:
    """A submission to grade: its fingerprint, and its bytes or why it is not gradable."""

    submission: Submission
    sha256: str
    content: bytes | None = None
    refused: str | None = None


def _check(submission: Submission, limits: Limits) -> _Todo:
    """Read one submission's notebook, checked (never more than the size limit)."""
    reason = submission.problem
    if reason is None:
        try:
            content = read_submitted(submission, limits.max_notebook_bytes)
        except FileNotFoundError:
            return _Todo(submission, MISSING)
        except RefusedFile as exc:
            reason = str(exc)
            if "MB limit" in reason:
                reason += f": notebooks are graded up to {limits.max_notebook_mb} MB"
        else:
            return _Todo(submission, hashlib.sha256(content).hexdigest(), content)
    return _Todo(submission, _refused_fingerprint(submission, reason), refused=reason)


def _plan(batch: _Batch, submissions: Iterable[Submission], force: bool):
    """Split into results to keep and :class:`_Todo` submissions to grade."""
    done, todo = [], []
    for submission in submissions:
        item = _check(submission, batch.limits)
        stored = None if force else batch.store.current(submission.student, item.sha256)
        if stored is not None:
            done.append(stored)
        else:
            todo.append(item)
    return done, todo


def _announce(bar: Progress | None, student: str) -> Callable[[], None] | None:
    """What a worker calls when it starts grading ``student`` (shown as running now)."""
    return (lambda: bar.started(student)) if bar else None


def _run(batch: _Batch, todo: list[_Todo], scheduler, limits, bar, outcome):
    finished: list[SubmissionResult] = []

    def finish(item: _Todo, result: JobResult) -> None:
        kept = batch.keep(item.submission, item.sha256, result)
        finished.append(kept)
        if bar:
            bar.step(
                f"{kept.student} {kept.status} {kept.score:g}/{kept.max_score:g}",
                name=kept.student,
            )

    grading = []
    for item in todo:
        if item.sha256 == MISSING:
            finish(item, _missing_result(batch.course, item.submission))
        elif item.refused is not None:
            result = unfinished_result(batch.course, batch.lesson, item.refused, Status.UNGRADABLE)
            finish(item, result)
        else:
            grading.append(item)
    if not grading:
        return finished
    pool = (
        DaskPool(scheduler, limits)
        if scheduler
        else LocalPool(limits.workers or default_workers(limits), limits)
    )
    outcome.pool = pool.label
    cancel = True
    try:
        futures = {}
        for item in grading:
            job = batch.job(item.submission, item.sha256, item.content)
            announce = _announce(bar, item.submission.student)
            futures[pool.submit(job, announce)] = item
            item.content = None  # the job holds it now
        for future in pool.completed(list(futures)):
            item = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # a Dask worker died too often, or the task failed
                reason = f"the worker failed: {type(exc).__name__}: {exc}"
                result = unfinished_result(batch.course, batch.lesson, reason, Status.ERROR)
            finish(item, result)
        cancel = False
    finally:
        pool.close(cancel=cancel)
    return finished
