"""One HTML page per lesson for the instructor: how the class did, and what needs a look.

A table with every student (score, status, grading time, first failure), the submissions a
person should open (not cleanly graded, tampered with, not recorded in the gradebook), the
score distribution, the pass rate per graded test, the most frequent failure messages and
the grading time per submission (figures as embedded PNGs). Built with the Jinja2 template
``class_report.html.j2`` (autoescape); student ids in figures are drawn as plain text.
"""

from __future__ import annotations

import base64
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from course_lib.classroom import pages
from course_lib.classroom.store import ResultStore, SubmissionResult, write_atomically
from course_lib.grader.report import Status

TOP_FAILURES = 10
LABEL_CHARS = 30


@dataclass(frozen=True)
class StudentRow:
    student: str
    score: float
    max_score: float
    status: str
    reason: str
    seconds: float
    first_failure: str
    look: list[str]


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _label(text: str) -> str:
    """A student id or test id as a figure label: printable, short."""
    text = pages.plain_text(text).replace("\n", " ")
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


@matplotlib.rc_context({"text.parse_math": False})  # labels are student ids: text, not TeX
def _bars(title: str, labels: list[str], values: list[float], xlabel: str) -> str:
    figure = Figure(figsize=(7, 0.4 * len(labels) + 1.2))
    axes = figure.subplots()
    positions = list(range(len(labels)))
    axes.barh(positions, values, color="#4c72b0")
    axes.set_yticks(positions, [_label(label) for label in labels], parse_math=False)
    axes.invert_yaxis()
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    return _png(figure)


def _histogram(scores: list[float], max_score: float) -> str:
    figure = Figure(figsize=(7, 3))
    axes = figure.subplots()
    bins = [x - 0.5 for x in range(int(max_score) + 2)] if max_score <= 50 else 20
    axes.hist(scores, bins=bins, color="#4c72b0", edgecolor="white")
    axes.set_title("Score distribution")
    axes.set_xlabel(f"score (max {max_score:g})")
    axes.set_ylabel("submissions")
    return _png(figure)


def needs_a_look(result: SubmissionResult) -> list[str]:
    """Why a person should open this submission (empty if nothing)."""
    reasons = []
    if result.status is not Status.GRADED:
        reasons.append(result.status + (f": {result.reason}" if result.reason else ""))
    reasons += [f"tampering: {t}" for t in result.report.tampering]
    reasons += [f"gradebook: {e}" for e in result.gradebook_errors]
    return reasons


def _first_failure(result: SubmissionResult) -> str:
    for test in result.report.tests:
        if not test.passed:
            first = (test.message.splitlines() or [""])[0]
            return f"{test.id}: {first}"
    return ""


def student_rows(results: dict[str, SubmissionResult]) -> list[StudentRow]:
    return [
        StudentRow(
            student=student,
            score=result.score,
            max_score=result.max_score,
            status=str(result.status),
            reason=result.reason or "",
            seconds=result.wall_seconds,
            first_failure=_first_failure(result),
            look=needs_a_look(result),
        )
        for student, result in sorted(results.items())
    ]


def render(lesson: str, results: dict[str, SubmissionResult]) -> str:
    """The class report page for ``lesson``."""
    reports = [r.report for r in results.values()]
    max_score = max((r.max_score for r in reports), default=0.0)
    scores = [r.score for r in reports]
    test_ids = list(dict.fromkeys(t.id for r in reports for t in r.tests))
    passed = Counter(t.id for r in reports for t in r.tests if t.passed)
    failures = Counter(
        (t.id, (t.message.splitlines() or [""])[0])
        for r in reports
        for t in r.tests
        if not t.passed
    )
    times = sorted(((s, r.wall_seconds) for s, r in results.items()), key=lambda x: -x[1])
    figures = []
    if results:
        figures = [
            _histogram(scores, max_score),
            _bars(
                "Pass rate per graded test",
                test_ids,
                [100 * passed[t] / len(reports) for t in test_ids],
                "% of submissions passing",
            ),
            _bars("Grading time per submission", [s for s, _ in times], [t for _, t in times], "s"),
        ]
    rows = student_rows(results)
    return pages.render(
        "class_report.html.j2",
        lesson=lesson,
        count=len(results),
        mean=sum(scores) / len(scores) if scores else 0.0,
        max_score=max_score,
        statuses=sorted(Counter(str(r.status) for r in results.values()).items()),
        rows=rows,
        look=[row for row in rows if row.look],
        figures=figures,
        failures=[(n, test, message) for (test, message), n in failures.most_common(TOP_FAILURES)],
    )


def write_class_report(course_root: Path, lesson: str) -> Path:
    """Write ``reports/<lesson>.html`` from the lesson's stored batch results."""
    target = Path(course_root) / "reports" / f"{lesson}.html"
    write_atomically(target, render(lesson, ResultStore(course_root, lesson).all()))
    return target
