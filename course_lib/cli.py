"""The ``course`` command for instructors and CI: parse arguments, call one library function."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from course_lib.admin.student_cli import add_data_commands
from course_lib.grader import startup
from course_lib.grader.settings import DEFAULT_LIMITS
from course_lib.grader.terminal import json_text, printable


def _limits(args, course):
    """The course's limits (nbgrader_config.py), overridden by the command line's flags."""
    from course_lib.grader.settings import load_limits

    return load_limits(course.root).with_overrides(
        cell_timeout=getattr(args, "cell_timeout", None),
        notebook_timeout=getattr(args, "timeout", None),
        memory_mb=getattr(args, "memory_mb", None),
        workers=getattr(args, "workers", None),
    )


def _add_limits(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cell-timeout",
        type=int,
        help="seconds per cell (default: c.Execute.timeout in nbgrader_config.py, "
        f"else {DEFAULT_LIMITS.cell_timeout})",
    )
    parser.add_argument(
        "--timeout",
        type=int,
        help="seconds per notebook (default: c.GradedExecute.notebook_timeout, "
        f"else {DEFAULT_LIMITS.notebook_timeout})",
    )
    parser.add_argument(
        "--memory-mb",
        type=int,
        help="kernel memory cap in MB (default: c.GradedExecute.memory_mb, "
        f"else {DEFAULT_LIMITS.memory_mb})",
    )


def _course(args):
    from course_lib.grader.course import Course

    return Course.find(args.course_dir)


def cmd_grade(args) -> int:
    if args.all:
        return cmd_grade_class(args)
    from course_lib.grader.grade import grade_notebook

    course = _course(args)
    report = grade_notebook(
        Path(args.notebook),
        course=course,
        lesson=args.lesson,
        limits=_limits(args, course),
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
        print(f"not graded: {printable(report.ungradable)}", file=sys.stderr)
    elif not report.status.is_student_outcome:
        print(
            f"course: needs a look: a fault of the kit, not of the submission, so no grade "
            f"was given ({printable(report.reason)})",
            file=sys.stderr,
        )
    return report.exit_code


def _class_lessons(course, target: str, submitted: Path | None) -> list[str]:
    from course_lib.classroom.batch import find_submissions

    if target != "all":
        return [course.check_lesson(target)]
    folder = submitted or course.root / "submitted"
    return [lesson for lesson in course.lessons if find_submissions(folder, lesson)]


def cmd_grade_class(args) -> int:
    import functools

    from course_lib.classroom.progress import Progress

    # On screen at once: loading the grading machinery takes seconds on a busy machine.
    bar = Progress(label=args.notebook)
    try:
        from course_lib.classroom.batch import grade_class

        course = _course(args)
        submitted = Path(args.submitted).resolve() if args.submitted else None
        lessons = _class_lessons(course, args.notebook, submitted)
        if not lessons:
            bar.close()
            print("course: no submissions found in submitted/<student>/<lesson>/", file=sys.stderr)
            return 2
        batches = []
        for lesson in lessons:
            batches.append(
                grade_class(
                    course,
                    lesson,
                    submitted_dir=submitted,
                    scheduler=args.scheduler,
                    force=args.force,
                    limits=_limits(args, course),
                    db_url=args.db_url,
                    progress=functools.partial(bar.begin, label=lesson),
                )
            )
    except KeyboardInterrupt:
        bar.close()
        print(
            "\ninterrupted: every finished result is kept; run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    finally:
        bar.close()
    for batch in batches:
        if args.json:
            subs = [
                {k: getattr(s, k) for k in ("student", "status", "score", "max_score", "reason")}
                for s in batch.submissions
            ]
            print(json_text({"lesson": batch.lesson, "submissions": subs}))
        else:
            print(batch.render())
    return 1 if any(batch.needs_a_look for batch in batches) else 0


def cmd_feedback(args) -> int:
    from course_lib.classroom.feedback import write_feedback

    course = _course(args)
    run = write_feedback(course.root, course.check_lesson(args.lesson))
    for path in run.written:
        print(printable(path.relative_to(course.root)))
    for student, why in run.skipped.items():
        print(f"course: no feedback for {printable(student)}: {printable(why)}", file=sys.stderr)
    if not run.written and not run.skipped:
        print(
            f"course: no graded submissions of {args.lesson}: run `course grade "
            f"{args.lesson} --all` first",
            file=sys.stderr,
        )
        return 2
    return 1 if run.skipped else 0


def cmd_report(args) -> int:
    course = _course(args)
    lesson = course.check_lesson(args.lesson)
    if args.format == "html":
        from course_lib.classroom.class_report import write_class_report

        path = write_class_report(course.root, lesson)
    else:
        from course_lib.classroom.export import write_export

        path = write_export(course.root, lesson, args.format)
    print(path.relative_to(course.root))
    return 0


def cmd_release(args) -> int:
    from course_lib.admin.release import ReleaseError, release_lesson

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
    from course_lib.admin.validate import validate_lessons

    course = _course(args)
    failed = False
    started = time.monotonic()
    lessons = args.lessons or course.lessons
    results = validate_lessons(
        course, lessons, _limits(args, course), workers=args.workers,
        solutions_only=args.solutions_only,
    )  # fmt: skip
    for result in results:
        lesson = result.lesson
        for label, report in (("solution", result.solution), ("untouched release", result.release)):
            if report is not None:
                print(
                    report.render(
                        f"{lesson} {label}: {report.score:g} / {report.max_score:g} "
                        f"({report.seconds:.1f} s)"
                    )
                )
        if result.ok and args.solutions_only:
            print(f"✔ {lesson}: solution 100 %")
        elif result.ok:
            print(
                f"✔ {lesson}: solution 100 %, untouched release 0 % "
                "with 'not implemented yet' everywhere"
            )
        else:
            failed = True
            print(f"✘ {lesson}: {len(result.problems)} problem(s)", file=sys.stderr)
            for problem in result.problems:
                print(f"    {printable(problem)}", file=sys.stderr)
    print(
        f"validated {len(lessons)} lesson(s) in {time.monotonic() - started:.1f} s "
        f"({args.workers} notebook(s) at once)"
    )
    return 1 if failed else 0


def _lessons(course, names: list[str]) -> list[str]:
    return list(course.lessons) if names == ["all"] else [course.check_lesson(n) for n in names]


def cmd_check_graders(args) -> int:
    from course_lib.admin import mutation

    course = _course(args)
    lessons = _lessons(course, args.lessons)
    if args.list:
        for lesson in lessons:
            for mutant in mutation.catalogue(course, lesson):
                print(f"{mutant.id}\t{mutant.description}")
        return 0
    started = time.monotonic()
    limits = _limits(args, course)
    reports = mutation.check_graders(
        course,
        lessons,
        limits=limits,
        workers=args.workers or limits.workers or 2,
        only=args.only,
        limit=None if args.all_mutants else -1,
        progress=None if args.json else lambda line: print(line, file=sys.stderr, flush=True),
    )
    wall = time.monotonic() - started
    if args.json:
        print(mutation.to_json(reports, wall))
    else:
        for report in reports:
            print(report.render())
        print(f"wall time: {wall:.0f} s")
    return 0 if all(report.ok for report in reports) else 1


def cmd_calibrate(args) -> int:
    from course_lib.admin import calibrate

    course = _course(args)
    limits = _limits(args, course)
    result = calibrate.calibrate(
        course,
        course.check_lesson(args.lesson),
        list(range(args.first_seed, args.first_seed + args.seeds)),
        limits=limits,
        workers=args.workers or limits.workers or 2,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(result.render())
    if result.failed:
        print(
            f"✘ {args.lesson}: the solution failed at some seeds: no record written",
            file=sys.stderr,
        )
        return 1
    if not args.dry_run:
        path = calibrate.write_record(course, result)
        print(f"✔ thresholds written to {path.relative_to(course.root)}")
    return 0


def cmd_lab(args) -> int:
    from course_lib.admin.lab import run_lab

    extra = args.jupyter_args[1:] if args.jupyter_args[:1] == ["--"] else args.jupyter_args
    run_lab(_course(args), port=args.port, open_browser=not args.no_browser, extra=extra)
    return 0  # not reached: the process became JupyterLab


def cmd_build_student(args) -> int:
    from course_lib.admin.student_wheel import StudentWheelError, build_student_bundle

    course = _course(args)
    try:
        bundle = build_student_bundle(course, Path(args.out) if args.out else None)
    except StudentWheelError as exc:
        print(f"✘ {exc}", file=sys.stderr)
        return 1
    print(f"✔ {bundle.wheel}: the student library only (no grader, no lesson code)")
    print(f"✔ {bundle.requirements}: a student's environment, pinned")
    print(f"  students: pip install -r requirements.txt {bundle.wheel.name}")
    return 0


def cmd_doctor(args) -> int:
    from course_lib.admin.doctor import report

    text, ok = report(_course(args).root)
    print(text)
    return 0 if ok else 1


def cmd_demo(args) -> int:
    from course_lib.admin.demo import run_demo

    course = _course(args)
    return run_demo(course, _limits(args, course))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course", description="Release, validate and grade the Keras course."
    )
    parser.add_argument(
        "--course-dir", type=Path, help="course folder (default: found from the working folder)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    grade = sub.add_parser("grade", help="grade one submitted notebook, or a class with --all")
    grade.add_argument("notebook", help="the .ipynb to grade (with --all: a lesson id, or 'all')")
    grade.add_argument("--lesson", help="lesson id (default: recognised from the notebook)")
    grade.add_argument("--json", action="store_true", help="print one JSON object (stable format)")
    grade.add_argument("--graded-copy", help="also write the executed notebook with verdicts here")
    _add_limits(grade)
    batch = grade.add_argument_group("grading a class (--all)")
    batch.add_argument(
        "--all",
        action="store_true",
        help="grade every submitted/<student>/<lesson>/ and record it in nbgrader's gradebook",
    )
    batch.add_argument(
        "--workers",
        type=int,
        help="submissions graded at once (default: c.ClassGrading.workers, else one per core, "
        "memory allowing)",
    )
    batch.add_argument("--scheduler", help="run on this Dask scheduler (tcp://HOST:PORT)")
    batch.add_argument("--force", action="store_true", help="regrade finished submissions too")
    batch.add_argument("--db-url", help="gradebook URL (default: sqlite gradebook.db)")
    batch.add_argument("--submitted", help="submissions folder (default: <course>/submitted)")
    grade.set_defaults(func=cmd_grade)

    feedback = sub.add_parser("feedback", help="per-student feedback HTML of a graded class")
    feedback.add_argument("lesson")
    feedback.set_defaults(func=cmd_feedback)

    report = sub.add_parser(
        "report", help="class report of a graded lesson (HTML), or its grades for an LMS"
    )
    report.add_argument("lesson")
    report.add_argument(
        "--format",
        choices=("html", "csv", "json"),
        default="html",
        help="html: reports/<lesson>.html for you; csv/json: a row per student, a column per "
        "test (reports/<lesson>.csv|json)",
    )
    report.set_defaults(func=cmd_report)

    release = sub.add_parser("release", help="nbgrader generate_assignment + leak scan")
    release.add_argument("lessons", nargs="*", help="lesson ids (default: all)")
    release.set_defaults(func=cmd_release)

    validate = sub.add_parser("validate", help="solution must score 100 %%, untouched release 0 %%")
    validate.add_argument("lessons", nargs="*", help="lesson ids (default: all)")
    validate.add_argument(
        "--workers", type=int, default=2, help="notebooks graded at once (default 2)"
    )
    validate.add_argument(
        "--solutions-only",
        action="store_true",
        help="grade only the solutions (skip the untouched releases)",
    )
    _add_limits(validate)
    validate.set_defaults(func=cmd_validate)

    check = sub.add_parser(
        "check-graders",
        help="mutation testing: grade realistic mistakes in the solution, list what survives",
    )
    check.add_argument("lessons", nargs="+", help="lesson ids, or 'all'")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.add_argument("--workers", type=int, help="mutants graded at once (default 2)")
    check.add_argument(
        "--only", action="append", help="grade only mutants whose id matches this glob"
    )
    check.add_argument(
        "--all-mutants",
        action="store_true",
        help="grade the whole catalogue (default: max_mutants of autograder/mutants/LESSON.toml)",
    )
    check.add_argument("--list", action="store_true", help="list the catalogue, grade nothing")
    _add_limits(check)
    check.set_defaults(func=cmd_check_graders)

    calib = sub.add_parser(
        "calibrate", help="run the solution over seeds, write the graders' quality thresholds"
    )
    calib.add_argument("lesson")
    calib.add_argument("--seeds", type=int, default=5, help="how many seeds (default 5)")
    calib.add_argument("--first-seed", type=int, default=0, help="first seed (default 0)")
    calib.add_argument("--workers", type=int, help="runs at once (default 2)")
    calib.add_argument("--dry-run", action="store_true", help="print the figures, write no record")
    _add_limits(calib)
    calib.set_defaults(func=cmd_calibrate)

    add_data_commands(sub)

    lab = sub.add_parser(
        "lab", help="JupyterLab on the course folder: formgrader, Assignment List, Validate"
    )
    lab.add_argument("--port", type=int, default=8888, help="port on 127.0.0.1 (default 8888)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser")
    lab.add_argument(
        "jupyter_args", nargs=argparse.REMAINDER, help="more options for jupyter lab, after --"
    )
    lab.set_defaults(func=cmd_lab)

    student = sub.add_parser(
        "build-student", help="the students' wheel (no graders) and pinned requirements"
    )
    student.add_argument("--out", help="output folder (default: dist/student)")
    student.set_defaults(func=cmd_build_student)

    doctor = sub.add_parser(
        "doctor", help="what confinement grading gets here (Landlock ABI), proven by a probe"
    )
    doctor.set_defaults(func=cmd_doctor)

    demo = sub.add_parser("demo", help="release lesson 01 and grade three notebooks")
    _add_limits(demo)
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    startup.skip_iri_grammar()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except Exception as exc:
        # imported here, not first: it loads nbformat, and a command's first output (the
        # progress of `grade --all`) should not wait for that
        from course_lib.grader.course import CourseError

        if not isinstance(exc, CourseError):
            raise
        print(f"course: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
