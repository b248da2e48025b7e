"""One HTML page per lesson for the instructor: how the class did, and what needs a look.

Score distribution, pass rate per graded test, the most frequent failure messages, grading
time per submission (figures as embedded PNGs), and the submissions a person should open:
not cleanly graded, tampered with, or not recorded in the gradebook.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from course_lib.classroom.feedback import STYLE
from course_lib.classroom.store import ResultStore, SubmissionResult, write_atomically
from course_lib.grader.report import Status

TOP_FAILURES = 10


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    encoded = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="figure" src="data:image/png;base64,{encoded}">'


@matplotlib.rc_context({"text.parse_math": False})  # labels are student ids: text, not TeX
def _bars(title: str, labels: list[str], values: list[float], xlabel: str) -> str:
    figure = Figure(figsize=(7, 0.4 * len(labels) + 1.2))
    axes = figure.subplots()
    axes.barh(labels, values, color="#4c72b0")
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
    statuses = Counter(str(r.status) for r in results.values())
    body = [
        f"<h1>{html.escape(lesson)}: class report</h1>",
        f"<p>{len(results)} submission(s); mean score "
        f"{(sum(scores) / len(scores) if scores else 0):.2f} / {max_score:g}; "
        + ", ".join(f"{n} {html.escape(s)}" for s, n in sorted(statuses.items()))
        + "</p>",
    ]
    if results:
        body += [
            _histogram(scores, max_score),
            _bars(
                "Pass rate per graded test",
                test_ids,
                [100 * passed[t] / len(reports) for t in test_ids],
                "% of submissions passing",
            ),
            _bars("Grading time per submission", [s for s, _ in times], [t for _, t in times], "s"),
        ]
    rows = "".join(
        f"<tr><td>{n}</td><td>{html.escape(t)}</td><td>{html.escape(m)}</td></tr>"
        for (t, m), n in failures.most_common(TOP_FAILURES)
    )
    body.append(
        "<h2>Most frequent failure messages</h2>"
        f"<table><tr><th>count</th><th>test</th><th>message</th></tr>{rows}</table>"
    )
    look = "".join(
        f"<li><b>{html.escape(student)}</b> ({r.score:g}/"
        f"{r.max_score:g}): {html.escape('; '.join(needs_a_look(r)))}</li>"
        for student, r in results.items()
        if needs_a_look(r)
    )
    body.append(f"<h2>Needs a human look</h2><ul>{look or '<li>nothing</li>'}</ul>")
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(lesson)} class '
        f"report</title><style>{STYLE}</style></head><body>{''.join(body)}</body></html>"
    )


def write_class_report(course_root: Path, lesson: str) -> Path:
    """Write ``reports/<lesson>.html`` from the lesson's stored batch results."""
    target = Path(course_root) / "reports" / f"{lesson}.html"
    write_atomically(target, render(lesson, ResultStore(course_root, lesson).all()))
    return target
