"""Validate a lesson: the solution earns every point, the untouched release earns none.

Also checks that the grade cells of the source and the tests of the grader file match
one to one, so no grade cell is silently ungraded and no test is silently unscored.
"""

from __future__ import annotations

import ast
import concurrent.futures
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from course_lib.classroom.warm import WarmServer, grader_runner
from course_lib.grader.course import Course
from course_lib.grader.grade import grade_notebook
from course_lib.grader.report import GradeReport
from course_lib.grader.settings import DEFAULT_LIMITS, Limits
from course_lib.grader.verdict import grader_env

NOT_IMPLEMENTED = "not implemented yet"


@dataclass
class Validation:
    lesson: str
    solution: GradeReport | None = None
    release: GradeReport | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def grader_test_ids(course: Course, lesson: str) -> list[str]:
    """The ``test_*`` function names of the lesson's grader file, without the prefix."""
    tree = ast.parse(course.grader_path(lesson).read_text(encoding="utf-8"))
    return [
        node.name.removeprefix("test_")
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    ]


def validate_lessons(
    course: Course,
    lessons: Iterable[str],
    limits: Limits = DEFAULT_LIMITS,
    workers: int = 1,
    solutions_only: bool = False,
) -> Iterator[Validation]:
    """Validate each lesson, yielded in order, every notebook's graders forked from one server.

    The server imports TensorFlow and pytest once, while the first solution runs; each
    notebook (a solution and, unless ``solutions_only``, an untouched release per lesson)
    then gets its graders and its kernel as fresh confined forks, as in a batch, instead of
    cold interpreters of its own. ``workers`` notebooks run at once, as a batch grades them:
    one lesson's training overlaps another's kernel start, imports and verdict.
    """
    lessons = list(lessons)
    server = WarmServer({**os.environ, **grader_env(limits)})
    pool = concurrent.futures.ThreadPoolExecutor(max(1, workers), "course-validate")
    try:
        graders = grader_runner(server.address)
        kernel_server = asdict(server.address)

        def graded(path: Path, lesson: str) -> concurrent.futures.Future[GradeReport]:
            return pool.submit(
                grade_notebook, path, course=course, lesson=lesson, limits=limits,
                graders=graders, kernel_server=kernel_server,
            )  # fmt: skip

        pending = []
        for lesson in lessons:
            solution = graded(course.source_notebook_path(lesson), lesson)
            release_path = course.release_notebook_path(lesson)
            release = None
            if not solutions_only and release_path.is_file():
                release = graded(release_path, lesson)
            pending.append((lesson, solution, release))
        for lesson, solution, release in pending:
            result = Validation(lesson, problems=structure_problems(course, lesson))
            result.problems += solution_problems(result, solution.result())
            if not solutions_only:
                result.problems += release_problems(
                    course, result, release.result() if release else None
                )
            yield result
    finally:
        pool.shutdown(cancel_futures=True)
        server.stop()


def structure_problems(course: Course, lesson: str) -> list[str]:
    """Grade cells without a test and tests without a grade cell."""
    cells = [t.id for t in course.tests(lesson)]
    tests = grader_test_ids(course, lesson)
    problems = [
        f"grade cell `{missing}` has no test_{missing} in {course.grader_path(lesson).name}"
        for missing in sorted(set(cells) - set(tests))
    ]
    problems += [
        f"test_{extra} has no grade cell in the source notebook"
        for extra in sorted(set(tests) - set(cells))
    ]
    return problems


def solution_problems(result: Validation, report: GradeReport) -> list[str]:
    """What keeps the solution from earning every point (records the report in ``result``)."""
    result.solution = report
    problems = []
    if report.ungradable:
        problems.append(f"solution could not be graded: {report.ungradable}")
    problems += [
        f"solution fails `{test.id}`: {test.message.splitlines()[0]}"
        for test in report.tests
        if not test.passed
    ]
    problems += [f"solution flagged as tampered: {note}" for note in report.tampering]
    return problems


def release_problems(course: Course, result: Validation, report: GradeReport | None) -> list[str]:
    """What is wrong with the untouched release's grade: points, or another message."""
    result.release = report
    if report is None:
        path = course.release_notebook_path(result.lesson)
        return [f"no release at {path}: run `course release {result.lesson}`"]
    problems = []
    if report.ungradable:
        problems.append(f"untouched release could not be graded: {report.ungradable}")
    for test in report.tests:
        first = test.message.splitlines()[0] if test.message else ""
        if test.passed or test.points:
            problems.append(f"untouched release earns points on `{test.id}`")
        elif NOT_IMPLEMENTED not in first:
            problems.append(
                f"untouched release: `{test.id}` says {first!r}, not '{NOT_IMPLEMENTED}'"
            )
    problems += [f"untouched release flagged as tampered: {note}" for note in report.tampering]
    return problems
