"""Does grading a whole class give every submission its right status and score, everywhere?

One class of canned lesson-01 submissions is graded once with two workers through the CLI;
its results, gradebook, feedback and report are checked. Further passes grade parts of the
same class with ``nbgrader autograde`` (same gradebook?), after an interruption (resumes
without regrading?) and on a real Dask scheduler with two workers (same results?).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import psutil
import pytest

from course_lib.admin.release import release_lesson, venv_env
from course_lib.classroom.batch import grade_class
from course_lib.classroom.gradebook import auto_scores, default_db_url
from course_lib.classroom.store import ResultStore
from course_lib.grader.course import Course
from course_lib.grader.settings import DEFAULT_LIMITS

from .conftest import CANNED, ROOT, copy_course, load_variants

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("batch")]

LESSON = "01_regression"
LIMITS = DEFAULT_LIMITS.with_overrides(cell_timeout=90, memory_mb=2048, notebook_timeout=400)
LIMIT_ARGS = ["--cell-timeout", "90", "--memory-mb", "2048", "--timeout", "400"]
CLASS = [
    "correct",
    "untouched",
    "wrong_activation",
    "exception",
    "kernel_crash",
    "infinite_loop",
    "memory_hog",
    "functional_api",
]
STATUS = {"kernel_crash": "crashed", "infinite_loop": "timed out", "memory_hog": "memory"}
MALFORMED = "malformed"


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """A course folder whose gradebook knows lesson 01 (as after `course release`)."""
    course = copy_course(tmp_path_factory.mktemp("released"))
    assert release_lesson(course, LESSON) == []
    return course.root


def new_class(released, tmp_path, students, malformed=False) -> Course:
    """A copy of the released course with these canned submissions (student = variant)."""
    root = tmp_path / "course"
    shutil.copytree(released, root)
    for student in students:
        folder = root / "submitted" / student / LESSON
        folder.mkdir(parents=True)
        shutil.copy(CANNED / LESSON / f"{student}.ipynb", folder / f"{LESSON}.ipynb")
    if malformed:
        folder = root / "submitted" / MALFORMED / LESSON
        folder.mkdir(parents=True)
        (folder / f"{LESSON}.ipynb").write_text('{"cells": [', encoding="utf-8")
    return Course(root)


def course_cli(root, *args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "course_lib.cli", "--course-dir", str(root), *args],
        capture_output=True,
        text=True,
        env=venv_env(),
        **kwargs,
    )


def summary(course: Course) -> dict:
    """student → (status, score, {test id: (passed, first message line)}) from stored results."""
    return {
        student: (
            result.status,
            result.score,
            {t.id: (t.passed, t.message.splitlines()[0]) for t in result.report.tests},
        )
        for student, result in ResultStore(course.root, LESSON).all().items()
    }


@pytest.fixture(scope="module")
def graded(released, tmp_path_factory):
    """The class graded once through `course grade LESSON --all --workers 2`."""
    course = new_class(released, tmp_path_factory.mktemp("class"), CLASS, malformed=True)
    done = course_cli(
        course.root, "grade", LESSON, "--all", "--workers", "2", *LIMIT_ARGS, "--json"
    )
    return course, done


def as_graded_here(message: str, options: dict) -> str:
    """A canned message measured under the variant's cell limit, told with this class's limit."""
    if "cell_timeout" not in options:
        return message
    return message.replace(
        f"longer than {options['cell_timeout']} s", f"longer than {LIMITS.cell_timeout} s"
    )


def test_every_submission_gets_its_status_and_score(graded, course):
    klass, done = graded
    assert done.returncode == 1, done.stderr  # some submissions need a look
    expected = load_variants(LESSON).EXPECTED
    points = {t.id: t.points for t in course.tests(LESSON)}
    listed = {s["student"]: s for s in json.loads(done.stdout)["submissions"]}
    results = summary(klass)
    assert sorted(results) == sorted([*CLASS, MALFORMED]) == sorted(listed)
    variants = load_variants(LESSON)
    for student in CLASS:
        failing = {
            test: as_graded_here(message, variants.OPTIONS.get(student, {}))
            for test, message in expected[student].items()
        }
        score = sum(p for t, p in points.items() if t not in failing)
        tests = {t: (False, failing[t]) if t in failing else (True, "passed") for t in points}
        reason = listed[student]["reason"]
        assert results[student] == (STATUS.get(student, "graded"), score, tests), (student, reason)
        assert listed[student]["status"] == STATUS.get(student, "graded")
        assert listed[student]["score"] == score
    status, score, tests = results[MALFORMED]
    assert (status, score) == ("ungradable", 0.0)
    assert all("is not valid JSON" in message for _, message in tests.values())
    assert "[########################] 9/9" in done.stderr  # the progress bar ran to the end


def test_gradebook_and_autograded_folder_hold_every_graded_submission(graded):
    klass, _ = graded
    stored = ResultStore(klass.root, LESSON).all()
    scores = auto_scores(default_db_url(klass.root), LESSON)
    for student in CLASS:
        tests = stored[student].report.tests
        assert scores[student] == {t.id: t.points for t in tests}, student
        assert (klass.root / "autograded" / student / LESSON / f"{LESSON}.ipynb").is_file()
        assert stored[student].recorded and stored[student].gradebook_errors == []
    assert set(scores[MALFORMED].values()) == {0.0}  # a zero row: nbgrader never reads it


def test_a_second_run_regrades_nothing(graded):
    klass, _ = graded
    before = {s: r.graded_at for s, r in ResultStore(klass.root, LESSON).all().items()}
    started = time.monotonic()
    done = course_cli(klass.root, "grade", LESSON, "--all", *LIMIT_ARGS)
    assert time.monotonic() - started < 60
    assert "9 submission(s) already graded, kept" in done.stderr
    assert done.stdout.count("(kept from an earlier run)") == 9
    after = {s: r.graded_at for s, r in ResultStore(klass.root, LESSON).all().items()}
    assert after == before


def test_feedback_shows_points_messages_and_outputs_but_no_hidden_tests(graded):
    klass, _ = graded
    done = course_cli(klass.root, "feedback", LESSON)
    assert done.returncode == 0, done.stderr
    released_text = klass.release_notebook_path(LESSON).read_text(encoding="utf-8")
    grader_lines = {
        line.strip()
        for line in klass.grader_path(LESSON).read_text(encoding="utf-8").splitlines()
        if len(line.strip()) > 25 and line.strip() not in released_text
    }
    assert grader_lines  # the grader has code the release does not show
    for student in [*CLASS, MALFORMED]:
        page = (klass.root / "feedback" / student / LESSON / f"{LESSON}.html").read_text()
        assert "hidden_test" not in page and "HIDDEN TESTS" not in page
        assert not [line for line in grader_lines if line in page]
    page = (klass.root / "feedback" / "wrong_activation" / LESSON / f"{LESSON}.html").read_text()
    assert "Score: 5 / 10" in page
    assert "output layer: wrong activation" in page
    assert "activation=&#34;relu&#34;" in page  # the student's own code
    assert "train: (353, 10)" in page and "Total params" in page  # and its outputs


def test_class_report_has_plots_failures_and_the_submissions_to_look_at(graded):
    klass, _ = graded
    done = course_cli(klass.root, "report", LESSON)
    assert done.returncode == 0, done.stderr
    page = (klass.root / "reports" / f"{LESSON}.html").read_text()
    assert page.count("data:image/png;base64,") == 3
    assert "test mean absolute error: too high" in page
    look = page.split("Needs a human look")[1]
    for student in ("kernel_crash", "infinite_loop", "memory_hog", MALFORMED):
        assert f"<strong>{student}</strong>" in look
    assert "<strong>correct</strong>" not in look


def test_nbgrader_autograde_gives_the_same_gradebook(graded, released, tmp_path):
    klass, _ = graded
    students = ["untouched", "wrong_activation", "kernel_crash"]
    reference = new_class(released, tmp_path, students)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "nbgrader",
            "autograde",
            LESSON,
            f"--CourseDirectory.root={reference.root}",
            "--Execute.timeout=120",
            "--GradedExecute.memory_mb=2048",
            "--GradedExecute.notebook_timeout=400",
        ],
        cwd=reference.root,
        capture_output=True,
        text=True,
        env=venv_env(),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = auto_scores(default_db_url(reference.root), LESSON)
    ours = auto_scores(default_db_url(klass.root), LESSON)
    assert theirs == {student: ours[student] for student in students}


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def test_an_interrupted_run_resumes_without_regrading(graded, released, tmp_path):
    klass, _ = graded
    students = ["untouched", "exception", "wrong_activation"]
    course = new_class(released, tmp_path, students)
    store = ResultStore(course.root, LESSON)
    args = ["grade", LESSON, "--all", "--workers", "2", *LIMIT_ARGS]
    process = subprocess.Popen(
        [sys.executable, "-m", "course_lib.cli", "--course-dir", str(course.root), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=venv_env(),
    )
    deadline = time.monotonic() + 300
    while not store.all() and time.monotonic() < deadline:
        time.sleep(0.2)
    children = _children(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait()
    first = store.all()
    assert 1 <= len(first) < len(students), "interrupted while others were being graded"
    _, alive = psutil.wait_procs(children, timeout=30)
    assert alive == [], [" ".join(p.cmdline())[:200] for p in alive]  # they die with the batch

    done = course_cli(course.root, *args)
    assert done.returncode == 0, done.stderr
    assert f"{len(first)} submission(s) already graded, kept" in done.stderr
    final = store.all()
    for student, result in first.items():
        assert final[student].graded_at == result.graded_at
    assert summary(course) == {s: summary(klass)[s] for s in students}
    assert auto_scores(default_db_url(course.root), LESSON) == {
        s: auto_scores(default_db_url(klass.root), LESSON)[s] for s in students
    }


@pytest.fixture
def dask_cluster(tmp_path):
    """A real `dask scheduler` and two `dask worker` processes on loopback."""
    dask = shutil.which("dask", path=os.path.dirname(sys.executable))
    scheduler_file = tmp_path / "scheduler.json"
    common = {"cwd": ROOT, "env": venv_env(), "stdout": subprocess.DEVNULL}
    processes = [
        subprocess.Popen(
            [
                dask,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ],
            stderr=subprocess.DEVNULL,
            **common,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        for _ in range(2):
            processes.append(
                subprocess.Popen(
                    [
                        dask,
                        "worker",
                        address,
                        "--nworkers",
                        "1",
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--host",
                        "127.0.0.1",
                    ],
                    stderr=subprocess.DEVNULL,
                    **common,
                )
            )
        yield address
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGINT)
        for process in reversed(processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                for child in [*_children(process.pid), psutil.Process(process.pid)]:
                    child.kill()
                process.wait()


def test_dask_scheduler_with_two_workers_gives_identical_results(
    graded, released, tmp_path, dask_cluster
):
    klass, _ = graded
    students = ["exception", "wrong_activation", "kernel_crash"]
    course = new_class(released, tmp_path, students, malformed=True)
    result = grade_class(course, LESSON, scheduler=dask_cluster, limits=LIMITS)
    assert [(s.student, s.status) for s in result.submissions] == [
        ("exception", "graded"),
        ("kernel_crash", "crashed"),
        (MALFORMED, "ungradable"),
        ("wrong_activation", "graded"),
    ]
    expected = summary(klass)
    assert summary(course) == {s: expected[s] for s in [*students, MALFORMED]}
    assert auto_scores(default_db_url(course.root), LESSON) == {
        s: auto_scores(default_db_url(klass.root), LESSON)[s] for s in [*students, MALFORMED]
    }
