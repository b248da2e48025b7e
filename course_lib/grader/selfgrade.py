"""The one entry point from a running notebook into the grader: judge one hidden test now.

An instructor who runs a source notebook in Jupyter reaches the hidden graders through
:func:`course_lib.hidden.hidden_test`, which calls :func:`judge_namespace` and nothing
else of this package. The graders get the same evidence as under ``course grade``: the
namespace's hand-in, and the code of every answer cell as it ran (:func:`answer_sources`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat

from course_lib.grader import cells
from course_lib.grader.course import Course
from course_lib.grader.handin import export_namespace
from course_lib.grader.settings import load_limits
from course_lib.grader.verdict import TestVerdict, run_verdict


def _running_notebook(path: str | None, course: Course) -> nbformat.NotebookNode | None:
    """The notebook the kernel runs, as last saved (None if unknown or unreadable)."""
    if not path:
        return None
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = course.root / candidate
    try:
        return nbformat.read(candidate, as_version=4)
    except (OSError, ValueError, TypeError):
        return None


def answer_sources(
    source: nbformat.NotebookNode,
    executed: dict[str, str],
    running: nbformat.NotebookNode | None = None,
) -> dict[str, str]:
    """The code of each answer cell of ``source``, by grade id, as the notebook ran it.

    Preferred: the code the cell last ran with (``executed``, by cell id); else that cell
    in the running notebook as saved; else the source notebook's own cell.
    """
    saved = {cells.grade_id(c): cells.source_text(c) for c in (running.cells if running else [])}
    answers = {}
    for cell in source.cells:
        grade_id = cells.grade_id(cell)
        if not (grade_id and cells.is_answer(cell)):
            continue
        ran = executed.get(str(cell.get("id", "")))
        answers[grade_id] = ran if ran is not None else saved.get(grade_id, cells.source_text(cell))
    return answers


def judge_namespace(
    lesson: str,
    test_id: str,
    namespace: dict,
    *,
    executed: dict[str, str] | None = None,
    notebook_path: str | None = None,
) -> TestVerdict:
    """Hand in ``namespace`` and run hidden test ``test_id`` of ``lesson`` in a fresh process.

    ``executed``: the code each cell last ran with, by cell id; ``notebook_path``: the
    running notebook's file (Jupyter's ``__session__``), read when a cell's run is unknown.
    """
    course = Course.find()
    source = course.source_notebook(lesson)
    answers = answer_sources(source, executed or {}, _running_notebook(notebook_path, course))
    with tempfile.TemporaryDirectory(prefix="course-selfgrade-") as tmp:
        export_namespace(namespace, course.handin_spec(lesson), tmp)
        verdicts = run_verdict(
            course.grader_path(lesson),
            Path(tmp),
            {"answers": answers},
            [test_id],
            load_limits(course.root),
        )
    return verdicts[test_id]
