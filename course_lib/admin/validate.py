"""Validate a lesson: the solution earns every point, the untouched release earns none.

Also checks that the grade cells of the source and the tests of the grader file match
one to one, so no grade cell is silently ungraded and no test is silently unscored.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from course_lib.classroom.warm import WarmServer, grader_runner
from course_lib.grader.course import Course
from course_lib.grader.grade import grade_notebook
from course_lib.grader.report import GradeReport
from course_lib.grader.settings import DEFAULT_LIMITS, Limits
from course_lib.grader.verdict import GraderRunner, grader_env

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
    course: Course, lessons: Iterable[str], limits: Limits = DEFAULT_LIMITS
) -> Iterator[Validation]:
    """Validate each lesson in turn, every notebook's graders forked from one warm server.

    The server imports TensorFlow and pytest once, while the first solution runs; each of
    the notebooks (a solution and an untouched release per lesson) then gets its graders
    as a fresh confined fork, as in a batch, instead of a cold interpreter of its own.
    """
    server = WarmServer({**os.environ, **grader_env(limits)})
    try:
        graders = grader_runner(server.address)
        for lesson in lessons:
            yield validate_lesson(course, lesson, limits, graders)
    finally:
        server.stop()


def validate_lesson(
    course: Course,
    lesson: str,
    limits: Limits = DEFAULT_LIMITS,
    graders: GraderRunner | None = None,
) -> Validation:
    """Grade the source (must be 100 %) and the untouched release (must be 0, cleanly).

    ``graders`` starts the hidden graders' process (default: a fresh interpreter).
    """
    result = Validation(lesson)
    cells = [t.id for t in course.tests(lesson)]
    tests = grader_test_ids(course, lesson)
    for missing in sorted(set(cells) - set(tests)):
        result.problems.append(
            f"grade cell `{missing}` has no test_{missing} in {course.grader_path(lesson).name}"
        )
    for extra in sorted(set(tests) - set(cells)):
        result.problems.append(f"test_{extra} has no grade cell in the source notebook")

    result.solution = grade_notebook(
        course.source_notebook_path(lesson),
        course=course,
        lesson=lesson,
        limits=limits,
        graders=graders,
    )
    if result.solution.ungradable:
        result.problems.append(f"solution could not be graded: {result.solution.ungradable}")
    for test in result.solution.tests:
        if not test.passed:
            result.problems.append(f"solution fails `{test.id}`: {test.message.splitlines()[0]}")
    if result.solution.tampering:
        result.problems.extend(
            f"solution flagged as tampered: {note}" for note in result.solution.tampering
        )

    release_path = course.release_notebook_path(lesson)
    if not release_path.is_file():
        result.problems.append(f"no release at {release_path}: run `course release {lesson}`")
        return result
    result.release = grade_notebook(
        release_path, course=course, lesson=lesson, limits=limits, graders=graders
    )
    if result.release.ungradable:
        result.problems.append(
            f"untouched release could not be graded: {result.release.ungradable}"
        )
    for test in result.release.tests:
        first = test.message.splitlines()[0] if test.message else ""
        if test.passed or test.points:
            result.problems.append(f"untouched release earns points on `{test.id}`")
        elif NOT_IMPLEMENTED not in first:
            result.problems.append(
                f"untouched release: `{test.id}` says {first!r}, not '{NOT_IMPLEMENTED}'"
            )
    if result.release.tampering:
        result.problems.extend(
            f"untouched release flagged as tampered: {n}" for n in result.release.tampering
        )
    return result
