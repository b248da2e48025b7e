"""Per-submission batch results: typed records, written atomically the moment each is graded.

``.course/results/<lesson>/<student>.json`` holds one :class:`SubmissionResult` (status,
report, the SHA-256 of the submitted file, whether the gradebook has it); ``<student>.ipynb``
beside it is the executed notebook with the verdicts (already sanitised by the grader). The
file name is :func:`course_lib.grader.names.file_stem` of the student id (the id itself is
inside), and results are written as ASCII JSON, so no folder name can break the store. A
result whose fingerprint matches the submission is final: a resumed batch skips it, a
changed resubmission is graded again. A result that ended in a fault of the kit
(:attr:`Status.ERROR`) is never final.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.grader.names import file_stem
from course_lib.grader.report import GradeReport, Status

FORMAT = 1
"""Version of the results file; files without one are read as this version."""


def fingerprint(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


@dataclass
class SubmissionResult:
    """How one student's submission of one lesson came out, as stored and shown."""

    student: str
    lesson: str
    status: Status
    reason: str | None
    report: GradeReport
    fingerprint: str = ""
    submission: str = ""
    graded_at: str = ""
    wall_seconds: float = 0.0
    host: str = ""
    recorded: bool = False
    """Written into nbgrader's gradebook (never for a fault of the kit)."""
    gradebook_errors: list[str] = field(default_factory=list)
    resumed: bool = False
    """Kept from an earlier run instead of graded again (not stored)."""

    @property
    def score(self) -> float:
        return self.report.score

    @property
    def max_score(self) -> float:
        return self.report.max_score

    @property
    def needs_a_look(self) -> bool:
        return self.status is not Status.GRADED or bool(self.gradebook_errors)

    def as_json(self) -> dict:
        return {
            "format": FORMAT,
            "student": self.student,
            "lesson": self.lesson,
            "status": str(self.status),
            "reason": self.reason,
            "report": self.report.as_record(),
            "fingerprint": self.fingerprint,
            "submission": self.submission,
            "graded_at": self.graded_at,
            "wall_seconds": self.wall_seconds,
            "host": self.host,
            "recorded": self.recorded,
            "gradebook_errors": list(self.gradebook_errors),
        }

    @classmethod
    def from_json(cls, data: dict) -> SubmissionResult:
        status = Status(data["status"])
        return cls(
            student=data["student"],
            lesson=data["lesson"],
            status=status,
            reason=data.get("reason"),
            report=GradeReport.from_record(data["report"], status, data.get("reason")),
            fingerprint=data.get("fingerprint", ""),
            submission=data.get("submission", ""),
            graded_at=data.get("graded_at", ""),
            wall_seconds=float(data.get("wall_seconds") or 0.0),
            host=data.get("host", ""),
            recorded=bool(data.get("recorded")),
            gradebook_errors=list(data.get("gradebook_errors") or []),
        )


class ResultStore:
    """The results of one lesson's batch, one file per student."""

    def __init__(self, course_root: Path, lesson: str) -> None:
        self.lesson = lesson
        self.folder = Path(course_root) / ".course" / "results" / lesson

    def path(self, student: str) -> Path:
        return self.folder / f"{file_stem(student)}.json"

    def notebook_path(self, student: str) -> Path:
        return self.folder / f"{file_stem(student)}.ipynb"

    def load(self, student: str) -> SubmissionResult | None:
        return self._read(self.path(student))

    @staticmethod
    def _read(path: Path) -> SubmissionResult | None:
        try:
            return SubmissionResult.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def current(self, student: str, sha256: str) -> SubmissionResult | None:
        """The stored result if it was graded from exactly this submission, by a working kit."""
        result = self.load(student)
        if result is None or result.fingerprint != sha256 or result.status is Status.ERROR:
            return None
        return result

    def save(self, result: SubmissionResult) -> None:
        # ASCII: a student id that is not UTF-8 (a surrogate-escaped folder name) is kept exactly
        write_atomically(self.path(result.student), json.dumps(result.as_json(), indent=1))

    def save_notebook(self, student: str, notebook: dict | None) -> None:
        """Store the graded notebook of ``student`` (``None`` removes a stale one)."""
        if notebook is None:
            self.notebook_path(student).unlink(missing_ok=True)
        else:
            write_atomically(self.notebook_path(student), json.dumps(notebook, ensure_ascii=False))

    def notebook(self, student: str) -> dict | None:
        try:
            return json.loads(self.notebook_path(student).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def all(self) -> dict[str, SubmissionResult]:
        """Every stored result of the lesson, by student."""
        results = {}
        for path in sorted(self.folder.glob("*.json")):
            result = self._read(path)
            if result is not None and result.lesson == self.lesson:
                results[result.student] = result
        return dict(sorted(results.items()))
