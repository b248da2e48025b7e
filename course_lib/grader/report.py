"""A graded notebook's result: the stable JSON contract and the printed table."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class TestResult:
    id: str
    points: float
    max_points: float
    passed: bool
    message: str


@dataclass
class GradeReport:
    """The result of grading one notebook.

    ``as_json()`` is the stable contract of ``course grade --json``:
    ``{"lesson", "score", "max_score",
    "tests": [{"id", "points", "max_points", "passed", "message"}]}``.
    """

    lesson: str | None
    tests: list[TestResult] = field(default_factory=list)
    ungradable: str | None = None
    tampering: list[str] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)
    seconds: float = 0.0
    peak_mb: int = 0

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

    @property
    def status(self) -> str:
        return "ungradable" if self.ungradable else "graded"

    def as_json(self) -> dict:
        return {
            "lesson": self.lesson,
            "score": self.score,
            "max_score": self.max_score,
            "tests": [
                {
                    "id": t.id,
                    "points": float(t.points),
                    "max_points": float(t.max_points),
                    "passed": bool(t.passed),
                    "message": t.message,
                }
                for t in self.tests
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.as_json(), ensure_ascii=False)

    def render(self, title: str | None = None) -> str:
        """The per-test table a person reads."""
        lines = [title or f"{self.lesson or '?'}: {self.score:g} / {self.max_score:g} points"]
        if self.ungradable:
            lines.append(f"  NOT GRADED: {self.ungradable}")
        width = max((len(t.id) for t in self.tests), default=4)
        for test in self.tests:
            mark = "PASS" if test.passed else "FAIL"
            first, *rest = test.message.splitlines() or [""]
            lines.append(
                f"  {mark}  {test.id:<{width}}  {test.points:g}/{test.max_points:g}  {first}"
            )
            lines.extend(
                f"  {'':4}  {'':<{width}}  {'':>{len(f'{test.points:g}/{test.max_points:g}')}}  {r}"
                for r in rest
            )
        for note in self.tampering:
            lines.append(f"  TAMPERING: {note}")
        for note in self.incidents:
            lines.append(f"  NOTE: {note}")
        return "\n".join(lines)
