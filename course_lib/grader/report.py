"""A graded notebook's result: its status, the stable JSON contract and the printed table."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from course_lib.grader.terminal import json_text, printable


class Status(StrEnum):
    """How a submission's grading ended, from the kernel runner to the gradebook.

    The values are the words stored in results files and shown in tables.
    """

    GRADED = "graded"
    """Ran to the end (failing tests included): the score is the student's."""
    CRASHED = "crashed"
    """The kernel died (crash, ``os._exit``, segfault)."""
    TIMED_OUT = "timed out"
    """A cell or the whole notebook ran past its time limit and was stopped."""
    MEMORY = "memory"
    """The kernel went past its memory cap and was stopped."""
    UNGRADABLE = "ungradable"
    """The file is not a gradable notebook of the lesson (damaged, empty, another lesson)."""
    ERROR = "error"
    """A fault of the kit itself: no score is the student's, a person must look."""

    @property
    def severity(self) -> int:
        """Which status wins when several things happened (the later in this list)."""
        return list(Status).index(self)

    @property
    def is_student_outcome(self) -> bool:
        """Whether the score stands as the student's (every status but a kit fault)."""
        return self is not Status.ERROR


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class

    id: str
    points: float
    max_points: float
    passed: bool
    message: str

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "points": float(self.points),
            "max_points": float(self.max_points),
            "passed": bool(self.passed),
            "message": self.message,
        }


@dataclass
class GradeReport:
    """The result of grading one notebook.

    ``as_json()`` is the stable contract of ``course grade --json``:
    ``{"lesson", "score", "max_score",
    "tests": [{"id", "points", "max_points", "passed", "message"}]}``.
    ``as_record()`` adds what batches store (status, notes, time and memory).
    """

    lesson: str | None
    tests: list[TestResult] = field(default_factory=list)
    ungradable: str | None = None
    tampering: list[str] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)
    seconds: float = 0.0
    peak_mb: int = 0
    status: Status = Status.GRADED
    reason: str | None = None
    """Why the status is not ``graded`` (None when it is)."""
    landlock_abi: int | None = None
    """The Landlock ABI the notebook's kernel was confined with (None: it did not run)."""

    @property
    def score(self) -> float:
        return float(sum(t.points for t in self.tests))

    @property
    def max_score(self) -> float:
        return float(sum(t.max_points for t in self.tests))

    @property
    def exit_code(self) -> int:
        """0 all passed, 1 some failed, 2 the notebook could not be graded at all."""
        if self.ungradable:
            return 2
        return 0 if self.tests and all(t.passed for t in self.tests) else 1

    def as_json(self) -> dict:
        return {
            "lesson": self.lesson,
            "score": self.score,
            "max_score": self.max_score,
            "tests": [t.as_json() for t in self.tests],
        }

    def to_json(self) -> str:
        """``as_json()`` as one line of JSON, safe to print on a terminal."""
        return json_text(self.as_json())

    def as_record(self) -> dict:
        """The report as a results file stores it (``as_json`` plus notes and measures)."""
        return {
            **self.as_json(),
            "ungradable": self.ungradable,
            "tampering": list(self.tampering),
            "incidents": list(self.incidents),
            "seconds": self.seconds,
            "peak_mb": self.peak_mb,
            "landlock_abi": self.landlock_abi,
        }

    @classmethod
    def from_record(cls, record: dict, status: Status, reason: str | None) -> GradeReport:
        return cls(
            lesson=record.get("lesson"),
            tests=[TestResult(**t) for t in record.get("tests", [])],
            ungradable=record.get("ungradable"),
            tampering=list(record.get("tampering") or []),
            incidents=list(record.get("incidents") or []),
            seconds=float(record.get("seconds") or 0.0),
            peak_mb=int(record.get("peak_mb") or 0),
            status=status,
            reason=reason,
            landlock_abi=record.get("landlock_abi"),
        )

    def render(self, title: str | None = None) -> str:
        """The per-test table a person reads (every submission's text escaped for a terminal)."""
        lines = [
            printable(title or f"{self.lesson or '?'}: {self.score:g} / {self.max_score:g} points")
        ]
        if self.ungradable:
            lines.append(f"  NOT GRADED: {printable(self.ungradable)}")
        elif self.status is not Status.GRADED:
            lines.append(f"  {self.status.upper()}: {printable(self.reason)}")
        ids = {test.id: printable(test.id) for test in self.tests}
        width = max((len(i) for i in ids.values()), default=4)
        for test in self.tests:
            mark = "PASS" if test.passed else "FAIL"
            points = f"{test.points:g}/{test.max_points:g}"
            first, *rest = printable(test.message, multiline=True).split("\n")
            lines.append(f"  {mark}  {ids[test.id]:<{width}}  {points}  {first}")
            lines.extend(f"  {'':4}  {'':<{width}}  {'':>{len(points)}}  {r}" for r in rest)
        lines.extend(f"  TAMPERING: {printable(note)}" for note in self.tampering)
        lines.extend(f"  NOTE: {printable(note)}" for note in self.incidents)
        if self.landlock_abi is not None:
            lines.append(f"  sandbox: Landlock ABI {self.landlock_abi}")
        return "\n".join(lines)
