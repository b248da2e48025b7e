"""The only writer of nbgrader's gradebook during a batch: nbgrader's own Autograde, replayed.

:func:`record` runs nbgrader's ``Autograde`` converter in this process for one student,
with the course's ``nbgrader_config.py``, except that the execute step is
:class:`ReplayGraded`: it hands over the notebook a worker already executed and judged
instead of running it again. So the student, the submission (with its timestamp), every
grade's ``auto_score``, the comments and ``autograded/<student>/<lesson>/`` are exactly
what ``nbgrader autograde`` writes. Writes are serialised by a lock file.

nbgrader never reads a student's folder: it is pointed at a staging folder holding only the
notebook the kit trusts (the graded notebook, already sanitised, or for an ungradable
submission the released notebook, scored zero) and the checked ``timestamp.txt``, so a
symbolic link, a huge or malformed file or any other file in the submission never reaches
nbgrader or ``autograded/``. The student id is given to nbgrader glob-escaped (nbgrader
treats it as a pattern), so ``[a]*`` records ``[a]*`` and nobody else.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from sqlalchemy.exc import SAWarning
from traitlets import Unicode

from course_lib.grader import cells
from course_lib.grader.course import CourseError
from course_lib.grader.grade import apply_verdicts
from course_lib.grader.names import nbgrader_pattern
from course_lib.grader.verdict import TestVerdict


class ReplayGraded(NbGraderPreprocessor):
    """Stands in for the execute step: returns the notebook a worker executed and judged."""

    graded_notebook = Unicode("", help="The executed notebook with verdicts ('' = none).").tag(
        config=True
    )
    reason = Unicode("", help="Why there is no executed notebook (every test fails).").tag(
        config=True
    )

    def preprocess(self, nb, resources):
        if self.graded_notebook and Path(self.graded_notebook).is_file():
            return nbformat.read(self.graded_notebook, as_version=4), resources
        failed = TestVerdict(False, f"not graded: {self.reason or 'no result'}")
        apply_verdicts(nb, {cells.grade_id(c): failed for c in nb.cells if cells.is_test(c)})
        return nb, resources


def default_db_url(course_root: Path) -> str:
    """nbgrader's default: ``gradebook.db`` at the course root."""
    return f"sqlite:///{Path(course_root).resolve() / 'gradebook.db'}"


@contextlib.contextmanager
def exclusive(course_root: Path, name: str = "gradebook", wait: bool = True) -> Iterator[None]:
    """Hold ``.course/<name>.lock``; with ``wait=False`` fail at once if another holds it."""
    path = Path(course_root) / ".course" / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise CourseError(
                f"another `course grade` is already running ({path} is locked)"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _alembic_on_path() -> None:
    """nbgrader creates a new gradebook by running ``alembic``, from this interpreter's bin."""
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([scripts, os.environ.get("PATH", "")])


def check_assignment(db_url: str, lesson: str) -> None:
    """Fail unless the gradebook knows ``lesson`` (``nbgrader generate_assignment`` adds it)."""
    _alembic_on_path()
    with Gradebook(db_url) as gradebook:
        try:
            gradebook.find_assignment(lesson)
        except MissingEntry:
            raise CourseError(
                f"the gradebook ({db_url}) does not know {lesson}: "
                f"run `course release {lesson}` first"
            ) from None


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            self.messages.append(record.getMessage().strip().splitlines()[-1][:300])


def _config(course_root: Path, lesson: str, student: str, staging: Path, db_url: str):
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()
    config.CourseDirectory.root = str(course_root)
    config.CourseDirectory.assignment_id = lesson
    config.CourseDirectory.student_id = nbgrader_pattern(student)
    config.CourseDirectory.submitted_directory = str(staging)
    config.CourseDirectory.db_url = db_url
    config.BaseConverter.force = True
    steps = list(config.Autograde.get("autograde_preprocessors", []))
    config.Autograde.autograde_preprocessors = [
        ReplayGraded if isinstance(s, type) and issubclass(s, Execute) else s for s in steps
    ]
    return config


def record(
    course_root: Path,
    lesson: str,
    student: str,
    *,
    db_url: str,
    graded_notebook: Path | None,
    release_notebook: Path,
    reason: str | None = None,
    timestamp: str | None = None,
    submission_secret: str | None = None,
) -> list[str]:
    """Write one student's autograde into the gradebook; return nbgrader's error lines.

    ``graded_notebook`` is the notebook the worker executed and judged; without one (an
    ungradable submission) the ``release_notebook`` is recorded with every test failing
    for ``reason``. ``timestamp`` and ``submission_secret`` are the submission's checked
    ``timestamp.txt`` and ``submission_secret.txt`` (nbgrader's exchange writes both), if any.
    """
    from nbgrader.converters import Autograde
    from nbgrader.converters.base import NbGraderException
    from nbgrader.coursedir import CourseDirectory

    course_root = Path(course_root)
    (course_root / ".course").mkdir(exist_ok=True)
    log = logging.getLogger("course.gradebook")
    log.propagate = False
    collect = _Collect()
    log.handlers = [collect]
    with (
        tempfile.TemporaryDirectory(prefix="staging-", dir=course_root / ".course") as staging,
        exclusive(course_root),
        warnings.catch_warnings(),
    ):
        folder = Path(staging) / student / lesson
        folder.mkdir(parents=True)
        shutil.copyfile(graded_notebook or release_notebook, folder / f"{lesson}.ipynb")
        if timestamp:
            (folder / "timestamp.txt").write_text(timestamp, encoding="utf-8")
        if submission_secret:
            (folder / "submission_secret.txt").write_text(submission_secret, encoding="utf-8")
        config = _config(course_root, lesson, student, Path(staging), db_url)
        config.ReplayGraded.graded_notebook = str(graded_notebook or "")
        config.ReplayGraded.reason = reason or ""
        # nbgrader 0.9.6 on SQLAlchemy 2 warns about autoflush when it zeroes a missing
        # notebook; the rows are written correctly and the warning is not ours to fix.
        warnings.simplefilter("ignore", SAWarning)
        converter = Autograde(coursedir=CourseDirectory(config=config), config=config, log=log)
        with contextlib.suppress(NbGraderException):
            converter.start()
    return collect.messages


def auto_scores(db_url: str, lesson: str) -> dict[str, dict[str, float | None]]:
    """Every student's ``auto_score`` per grade cell of ``lesson``, as nbgrader stored it."""
    scores: dict[str, dict[str, float | None]] = {}
    with Gradebook(db_url) as gradebook:
        for submission in gradebook.find_assignment(lesson).submissions:
            grades = scores.setdefault(submission.student_id, {})
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grades[grade.name] = grade.auto_score
    return scores
