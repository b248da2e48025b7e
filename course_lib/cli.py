"""The ``course`` command for instructors and CI: parse arguments, call one library function."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course_lib.settings import DEFAULT_LIMITS


def _limits(args) -> object:
    return DEFAULT_LIMITS.with_overrides(
        cell_timeout=getattr(args, "cell_timeout", None),
        notebook_timeout=getattr(args, "timeout", None),
        memory_mb=getattr(args, "memory_mb", None),
    )


def _add_limits(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cell-timeout", type=int, help=f"seconds per cell (default {DEFAULT_LIMITS.cell_timeout})"
    )
    parser.add_argument(
        "--timeout",
        type=int,
        help=f"seconds per notebook (default {DEFAULT_LIMITS.notebook_timeout})",
    )
    parser.add_argument(
        "--memory-mb",
        type=int,
        help=f"kernel memory cap in MB (default {DEFAULT_LIMITS.memory_mb})",
    )


def _course(args):
    from course_lib.course import Course

    return Course.find(args.course_dir)


def cmd_grade(args) -> int:
    from course_lib.grading import grade_notebook

    course = _course(args)
    report = grade_notebook(
        Path(args.notebook),
        course=course,
        lesson=args.lesson,
        limits=_limits(args),
        graded_copy=Path(args.graded_copy) if args.graded_copy else None,
    )
    if args.json:
        print(report.to_json())
    else:
        print(
            report.render(
                f"{args.notebook}: {report.score:g} / {report.max_score:g} points ({report.lesson})"
            )
        )
    if report.ungradable:
        print(f"not graded: {report.ungradable}", file=sys.stderr)
    return report.exit_code


def cmd_release(args) -> int:
    from course_lib.release import ReleaseError, release_lesson

    course = _course(args)
    failed = False
    for lesson in args.lessons or course.lessons:
        try:
            leaks = release_lesson(course, lesson)
        except ReleaseError as exc:
            print(f"✘ {lesson}: {exc}", file=sys.stderr)
            failed = True
            continue
        if leaks:
            failed = True
            print(f"✘ {lesson}: the release LEAKS {len(leaks)} thing(s):", file=sys.stderr)
            for leak in leaks:
                print(f"    {leak}", file=sys.stderr)
        else:
            print(
                f"✔ {lesson}: released to "
                f"{course.release_notebook_path(lesson).relative_to(course.root)}, "
                "no solution, hidden test or grader reference in it"
            )
    return 1 if failed else 0


def cmd_validate(args) -> int:
    from course_lib.validate import validate_lesson

    course = _course(args)
    failed = False
    for lesson in args.lessons or course.lessons:
        result = validate_lesson(course, lesson, _limits(args))
        for label, report in (("solution", result.solution), ("untouched release", result.release)):
            if report is not None:
                print(
                    report.render(
                        f"{lesson} {label}: {report.score:g} / {report.max_score:g} "
                        f"({report.seconds:.1f} s)"
                    )
                )
        if result.ok:
            print(
                f"✔ {lesson}: solution 100 %, untouched release 0 % "
                "with 'not implemented yet' everywhere"
            )
        else:
            failed = True
            print(f"✘ {lesson}: {len(result.problems)} problem(s)", file=sys.stderr)
            for problem in result.problems:
                print(f"    {problem}", file=sys.stderr)
    return 1 if failed else 0


def cmd_data_import(args) -> int:
    from course_lib import data

    try:
        states = data.import_folder(Path(args.folder))
    except FileNotFoundError as exc:
        print(f"✘ {exc}", file=sys.stderr)
        return 2
    for state in states:
        print(f"  {state.state:<16} {state.file.name}  {state.detail}")
    bad = [s for s in states if s.state == "corrupt"]
    if bad:
        print(f"✘ {len(bad)} file(s) failed the checksum and were NOT imported", file=sys.stderr)
        return 1
    print(f"Keras dataset cache: {data.keras_datasets_dir()}")
    return 0


def cmd_data_check(args) -> int:
    from course_lib import data

    states = data.check_cache()
    for state in states:
        print(f"  {state.state:<8} {state.file.name}  {state.detail}")
    return 1 if any(s.state == "corrupt" for s in states) else 0


def cmd_demo(args) -> int:
    from course_lib.demo import run_demo

    return run_demo(_course(args), _limits(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course", description="Release, validate and grade the Keras course."
    )
    parser.add_argument(
        "--course-dir", type=Path, help="course folder (default: found from the working folder)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    grade = sub.add_parser("grade", help="grade one submitted notebook")
    grade.add_argument("notebook", help="the .ipynb to grade")
    grade.add_argument("--lesson", help="lesson id (default: recognised from the notebook)")
    grade.add_argument("--json", action="store_true", help="print one JSON object (stable format)")
    grade.add_argument("--graded-copy", help="also write the executed notebook with verdicts here")
    _add_limits(grade)
    grade.set_defaults(func=cmd_grade)

    release = sub.add_parser("release", help="nbgrader generate_assignment + leak scan")
    release.add_argument("lessons", nargs="*", help="lesson ids (default: all)")
    release.set_defaults(func=cmd_release)

    validate = sub.add_parser("validate", help="solution must score 100 %%, untouched release 0 %%")
    validate.add_argument("lessons", nargs="*", help="lesson ids (default: all)")
    _add_limits(validate)
    validate.set_defaults(func=cmd_validate)

    data_parser = sub.add_parser("data", help="offline datasets for Keras")
    data_sub = data_parser.add_subparsers(dest="data_command", required=True)
    data_import = data_sub.add_parser(
        "import", help="verify checksums and copy a folder into the Keras cache"
    )
    data_import.add_argument("folder")
    data_import.set_defaults(func=cmd_data_import)
    data_sub.add_parser("check", help="report which dataset files Keras will find").set_defaults(
        func=cmd_data_check
    )

    demo = sub.add_parser("demo", help="release lesson 01 and grade three notebooks")
    _add_limits(demo)
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from course_lib.course import CourseError

    try:
        return args.func(args)
    except CourseError as exc:
        print(f"course: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
