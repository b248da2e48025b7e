"""The README's main job: release lesson 01, grade three notebooks, print their score tables."""

from __future__ import annotations

from course_lib.admin.release import release_lesson
from course_lib.grader.course import Course
from course_lib.grader.grade import grade_notebook
from course_lib.grader.settings import Limits

LESSON = "01_regression"


def run_demo(course: Course, limits: Limits) -> int:
    """Release lesson 01, then grade its solution, its untouched release and a wrong notebook."""
    print(f"== course release {LESSON}")
    leaks = release_lesson(course, LESSON)
    if leaks:
        for leak in leaks:
            print(f"   LEAK {leak}")
        return 1
    print(
        f"   {course.release_notebook_path(LESSON).relative_to(course.root)}: no solution, "
        "hidden test or grader reference"
    )
    wrong = course.root / "tests" / "canned" / LESSON / "wrong_activation.ipynb"
    submissions = [
        ("the instructor's solution", course.source_notebook_path(LESSON), 0),
        ("the untouched student release", course.release_notebook_path(LESSON), 1),
        ("a wrong submission (relu output layer)", wrong, 1),
    ]
    failed = False
    for label, path, expected_exit in submissions:
        print(f"\n== course grade {path.relative_to(course.root)}   ({label})")
        report = grade_notebook(path, course=course, lesson=LESSON, limits=limits)
        print(
            report.render(
                f"{report.score:g} / {report.max_score:g} points in {report.seconds:.1f} s"
            )
        )
        failed |= report.exit_code != expected_exit
    print(
        "\nDemo "
        + (
            "FAILED: a score was not what the demo expects"
            if failed
            else "done: 10/10, 0/10, 5/10 as expected"
        )
    )
    return 1 if failed else 0
