"""The one entry point from a running notebook into the grader: judge one hidden test now.

An instructor who runs a source notebook in Jupyter reaches the hidden graders through
:func:`course_lib.hidden.hidden_test`, which calls :func:`judge_namespace` and nothing
else of this package.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from course_lib.grader.course import Course
from course_lib.grader.handin import export_namespace
from course_lib.grader.settings import load_limits
from course_lib.grader.verdict import TestVerdict, run_verdict


def judge_namespace(lesson: str, test_id: str, namespace: dict) -> TestVerdict:
    """Hand in ``namespace`` and run hidden test ``test_id`` of ``lesson`` in a fresh process."""
    course = Course.find()
    with tempfile.TemporaryDirectory(prefix="course-selfgrade-") as tmp:
        export_namespace(namespace, course.handin_spec(lesson), tmp)
        verdicts = run_verdict(
            course.grader_path(lesson), Path(tmp), {}, [test_id], load_limits(course.root)
        )
    return verdicts[test_id]
