"""Grades out of the kit for an LMS: one row per student, one column per graded test.

``course report LESSON --format csv|json`` writes ``reports/<lesson>.csv`` or ``.json``
from the lesson's stored results (next to nbgrader's own ``nbgrader export`` CSV of totals).
Every status is kept (a kit fault has no score: its cells are empty). Student ids are
data: a CSV cell that a spreadsheet would read as a formula gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from course_lib.classroom.store import ResultStore, SubmissionResult, write_atomically
from course_lib.grader.report import Status

FORMAT = 1
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _test_columns(results: dict[str, SubmissionResult]) -> dict[str, float]:
    """Every test id seen, in order, with its maximum points."""
    columns: dict[str, float] = {}
    for result in results.values():
        for test in result.report.tests:
            columns.setdefault(test.id, test.max_points)
    return columns


def as_json(lesson: str, results: dict[str, SubmissionResult]) -> dict:
    columns = _test_columns(results)
    students = []
    for student, result in sorted(results.items()):
        graded = result.status is not Status.ERROR
        students.append(
            {
                "student_id": student,
                "status": str(result.status),
                "reason": result.reason,
                "score": result.score if graded else None,
                "max_score": sum(columns.values()),
                "tests": {t.id: (t.points if graded else None) for t in result.report.tests},
            }
        )
    return {
        "format": FORMAT,
        "lesson": lesson,
        "tests": [{"id": test_id, "max_points": points} for test_id, points in columns.items()],
        "students": students,
    }


def _cell(value) -> str:
    text = "" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
    return "'" + text if text.startswith(FORMULA_START) else text


def as_csv(lesson: str, results: dict[str, SubmissionResult]) -> str:
    record = as_json(lesson, results)
    tests = [test["id"] for test in record["tests"]]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student_id", "lesson", "status", "score", "max_score", *tests])
    for row in record["students"]:
        writer.writerow(
            [
                _cell(value)
                for value in (
                    row["student_id"],
                    lesson,
                    row["status"],
                    row["score"],
                    row["max_score"],
                    *(row["tests"].get(test) for test in tests),
                )
            ]
        )
    return buffer.getvalue()


def write_export(course_root: Path, lesson: str, fmt: str) -> Path:
    """Write ``reports/<lesson>.<fmt>`` (csv or json) from the stored results."""
    results = ResultStore(course_root, lesson).all()
    if fmt == "csv":
        text = as_csv(lesson, results)
    elif fmt == "json":
        text = json.dumps(as_json(lesson, results), ensure_ascii=False, indent=1) + "\n"
    else:
        raise ValueError(f"unknown format {fmt!r} (csv or json)")
    target = Path(course_root) / "reports" / f"{lesson}.{fmt}"
    write_atomically(target, text)
    return target
