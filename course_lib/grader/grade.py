"""Grade one submitted notebook: restore, execute confined, judge outside the kernel.

1. read the file (any damage → ungradable, with the reason);
2. find its lesson and rebuild it from the instructor's source (:mod:`notebooks`);
3. execute it in a confined kernel and collect its hand-in (:mod:`execution`);
4. run the lesson's hidden graders on the hand-in in a fresh process (:mod:`verdict`), started
   during step 3 so that its imports cost no time, reading the hand-in only after it;
5. score each grade cell with the points of the instructor's source.

The nbgrader path (:mod:`course_lib.grader.nbgrader_execute`) calls steps 3–4 the same way, so
``nbgrader autograde`` and ``course grade`` agree.
"""

from __future__ import annotations

import sys
import tempfile
import traceback
from pathlib import Path

import nbformat

from course_lib.grader import cells, submission
from course_lib.grader.course import Course
from course_lib.grader.execution import ExecutionOutcome, execute_notebook
from course_lib.grader.report import GradeReport, Status, TestResult
from course_lib.grader.settings import DEFAULT_LIMITS, Limits
from course_lib.grader.verdict import GraderRunner, TestVerdict, Verdict


def judge(
    course: Course,
    lesson: str,
    notebook: nbformat.NotebookNode,
    limits: Limits,
    graders: GraderRunner | None = None,
    kernel_server: dict | None = None,
) -> tuple[ExecutionOutcome, dict[str, TestVerdict]]:
    """Execute ``notebook`` (already restored) and run the lesson's graders on its hand-in.

    ``graders`` starts the graders' process (default: a fresh interpreter); ``kernel_server``
    (a warm server's address) forks the kernel (default: a fresh interpreter).
    """
    tests = course.tests(lesson)
    with tempfile.TemporaryDirectory(prefix="course-handin-") as tmp:
        handin_dir = Path(tmp) / "handin"
        handin_dir.mkdir()
        # started now, the graders' process imports and collects while the notebook runs;
        # it reads the hand-in only once execute_notebook has taken it over from a dead kernel
        with Verdict(course.grader_path(lesson), handin_dir, limits, graders) as verdict:
            outcome = execute_notebook(
                notebook,
                spec=course.handin_spec(lesson),
                limits=limits,
                handin_dir=handin_dir,
                lesson_files=course.lesson_files(lesson),
                lesson_dir=course.source_dir / lesson,
                kernel_server=kernel_server,
            )
            answers = {
                cells.grade_id(cell): str(cell.source)
                for cell in notebook.cells
                if cells.is_answer(cell) and cells.grade_id(cell)
            }
            verdicts = verdict.result(
                {**outcome.as_dict(), "answers": answers}, [t.id for t in tests]
            )
    return outcome, verdicts


def apply_verdicts(notebook: nbformat.NotebookNode, verdicts: dict[str, TestVerdict]) -> None:
    """Replace each grade cell's outputs by its verdict (nbgrader scores from these outputs)."""
    for cell in notebook.cells:
        if not cells.is_test(cell):
            continue
        verdict = verdicts.get(cells.grade_id(cell))
        if verdict is None:
            continue
        if verdict.passed:
            cell.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text=f"✔ {verdict.message}\n")
            ]
        else:
            first, *_ = verdict.message.splitlines() or ["failed"]
            cell.outputs = [
                nbformat.v4.new_output(
                    "error",
                    ename="GradingFailure",
                    evalue=first,
                    traceback=verdict.message.splitlines(),
                )
            ]


def _lesson_for(course: Course, notebook, path: Path, requested: str | None) -> str:
    best, overlaps = submission.detect_lesson(notebook, course.cell_id_sets())
    if requested:
        course.check_lesson(requested)
        if overlaps.get(requested, 0) < overlaps.get(best, 0):
            # Lessons share cell ids (intro, setup, part_a…): the best match decides.
            raise submission.UngradableError(
                f"this notebook belongs to lesson {best}, not {requested}: "
                f"submit the {requested} notebook"
            )
        if overlaps.get(requested, 0) == 0:
            if best:
                raise submission.UngradableError(
                    f"this notebook belongs to lesson {best}, not {requested}: "
                    f"submit the {requested} notebook"
                )
            raise submission.UngradableError(
                f"this is not a notebook of lesson {requested}: "
                "none of its cells come from that lesson"
            )
        return requested
    if best:
        return best
    stem = path.stem
    if stem in course.lessons:
        raise submission.UngradableError(
            f"{path.name} has none of the cells of lesson {stem}: it is not that lesson's notebook"
        )
    raise submission.UngradableError("cannot tell which lesson this notebook is for: pass --lesson")


def grade_notebook(
    path: Path,
    *,
    course: Course,
    lesson: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    graded_copy: Path | None = None,
    graders: GraderRunner | None = None,
    kernel_server: dict | None = None,
) -> GradeReport:
    """Grade the notebook at ``path``; never raises for anything the submission does.

    ``graders`` starts the hidden graders' process (default: a fresh interpreter);
    ``kernel_server`` (a warm server's address) forks the kernel (default: a fresh one).
    """
    path = Path(path)
    try:
        submitted = submission.read_submission(path, limits)
        lesson = _lesson_for(course, submitted, path, lesson)
    except submission.UngradableError as exc:
        return _ungradable(course, lesson, str(exc))
    try:
        return _grade(course, lesson, submitted, limits, graded_copy, graders, kernel_server)
    except Exception as exc:  # a bug or a broken installation: the kit's fault, not a grade
        traceback.print_exc(file=sys.stderr)
        return _kit_fault(course, lesson, f"the grader failed: {type(exc).__name__}: {exc}")


def _grade(course, lesson, submitted, limits, graded_copy, graders, kernel_server) -> GradeReport:
    source = course.source_notebook(lesson)
    restored = submission.restore_cells(submitted, source)
    outcome, verdicts = judge(course, lesson, restored.notebook, limits, graders, kernel_server)
    apply_verdicts(outcome.notebook, verdicts)
    if graded_copy is not None:
        nbformat.write(outcome.notebook, graded_copy)
    report = GradeReport(
        lesson=lesson,
        tampering=restored.tampering,
        incidents=outcome.incidents,
        seconds=outcome.seconds,
        peak_mb=outcome.peak_mb,
        status=outcome.status,
        reason=outcome.status_reason,
        landlock_abi=outcome.landlock_abi,
    )
    faults = [v.message for v in verdicts.values() if v.kit_fault]
    if faults and report.status is not Status.ERROR:
        report.status, report.reason = Status.ERROR, faults[0].removeprefix("could not be graded: ")
    for test in cells.graded_tests(source):
        verdict = verdicts[test.id]
        message = verdict.message
        for note in restored.tampered_tests.get(test.id, []):
            message += f"\nnote: {note}"
        report.tests.append(
            TestResult(
                test.id,
                test.points if verdict.passed else 0.0,
                test.points,
                verdict.passed,
                message,
            )
        )
    return report


def _kit_fault(course: Course, lesson: str, reason: str) -> GradeReport:
    report = GradeReport(lesson=lesson, status=Status.ERROR, reason=reason, incidents=[reason])
    for test in course.tests(lesson):
        report.tests.append(TestResult(test.id, 0.0, test.points, False, f"not graded: {reason}"))
    return report


def _ungradable(course: Course, lesson: str | None, reason: str) -> GradeReport:
    report = GradeReport(
        lesson=lesson if lesson in course.lessons else None,
        ungradable=reason,
        status=Status.UNGRADABLE,
        reason=reason,
    )
    if report.lesson:
        for test in course.tests(report.lesson):
            report.tests.append(
                TestResult(test.id, 0.0, test.points, False, f"not graded: {reason}")
            )
    return report
