"""Do grades leave the kit in a form an LMS imports, and only as data?"""

from __future__ import annotations

import csv
import io
import json

from course_lib.classroom import export
from course_lib.classroom.store import ResultStore, SubmissionResult
from course_lib.grader.report import GradeReport, Status, TestResult

LESSON = "01_regression"


def _result(student: str, points: tuple[float, float], status=Status.GRADED) -> SubmissionResult:
    tests = [
        TestResult("preprocessing", points[0], 2.0, points[0] == 2.0, "m"),
        TestResult("architecture", points[1], 3.0, points[1] == 3.0, "m"),
    ]
    reason = None if status is Status.GRADED else "why"
    report = GradeReport(LESSON, tests, status=status, reason=reason)
    return SubmissionResult(student, LESSON, status, reason, report)


def test_one_row_per_student_one_column_per_test(tmp_path):
    store = ResultStore(tmp_path, LESSON)
    store.save(_result("ada", (2.0, 3.0)))
    store.save(_result("bo", (2.0, 0.0), Status.TIMED_OUT))
    store.save(_result("cy", (0.0, 0.0), Status.ERROR))
    path = export.write_export(tmp_path, LESSON, "csv")
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert list(rows[0]) == [
        "student_id", "lesson", "status", "score", "max_score", "preprocessing", "architecture",
    ]  # fmt: skip
    assert [(r["student_id"], r["status"], r["score"], r["architecture"]) for r in rows] == [
        ("ada", "graded", "5", "3"),
        ("bo", "timed out", "2", "0"),
        ("cy", "error", "", ""),  # a fault of the kit is nobody's grade
    ]
    record = json.loads(export.write_export(tmp_path, LESSON, "json").read_text())
    assert record["tests"] == [
        {"id": "preprocessing", "max_points": 2.0},
        {"id": "architecture", "max_points": 3.0},
    ]
    assert record["students"][2] == {
        "student_id": "cy",
        "status": "error",
        "reason": "why",
        "score": None,
        "max_score": 5.0,
        "tests": {"preprocessing": None, "architecture": None},
    }


def test_a_student_id_is_never_a_spreadsheet_formula():
    text = export.as_csv(LESSON, {"=HYPERLINK(1)": _result("=HYPERLINK(1)", (2.0, 3.0))})
    (row,) = list(csv.reader(io.StringIO(text)))[1:]
    assert row[0] == "'=HYPERLINK(1)"
