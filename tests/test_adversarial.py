"""Can a submission cheat, or break grading? The adversarial corpus says no, case by case.

The corpus (``tests/adversarial/``, expectations in ``cases.py``) is graded through
:func:`grade_notebook` and the real ``course grade`` command. The fast tests below pin the
engine defences the corpus relies on, without running a kernel.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, replace
from pathlib import Path

import nbformat
import numpy as np
import psutil
import pytest

from course_lib.admin.release import release_lesson
from course_lib.checks import CheckFailure
from course_lib.classroom import warm
from course_lib.classroom.batch import grade_class
from course_lib.grader import submission
from course_lib.grader.grade import grade_notebook
from course_lib.grader.handin import Handin, export_cell_source
from course_lib.grader.settings import DEFAULT_LIMITS

from .adversarial.cases import FAULT_LIMITS, SCRIPT_MARKERS, SECRET, Case, iter_cases
from .conftest import ROOT, copy_course

FORGED_FILES = [
    ROOT / "autograder" / "FORGED_BY_STUDENT",
    ROOT / "autograded" / "FORGED_BY_STUDENT",
    ROOT / "course_lib" / "FORGED_BY_STUDENT",
    Path("/tmp/FORGED_BY_STUDENT"),
]
FORGED_GRADEBOOK = b'{"score": 10, "passed": true}'
"""What ``grader_files`` tries to write over the course's ``gradebook.db``."""
BATCH_LESSON = "01_regression"
BATCH_LIMITS = DEFAULT_LIMITS.with_overrides(**FAULT_LIMITS)
# The batch path reuses the engine `course grade` uses; within CI's time budget it gets one case
# per kind of attack or fault (lie, fake grader, tampering, exit, crash, flood, damaged file).
IN_BATCH = {
    "lying_keras_methods",
    "fake_autograder",
    "metadata_and_locked_cells",
    "exit_calls",
    "segfault",
    "output_flood",
    "bad_json",
}
"""Costs 100 s of CI for a timeout the canned batch class (``infinite_loop``) already shows."""
IN_FORKED_KERNEL = {
    "machinery_patched",
    "exit_calls",
    "killed_at_export",
    "grader_files",
    "forged_handin",
    "loop_ignoring_interrupt",
    "memory_hog",
    "segfault",
    "network",
    "lambda_writes_files",
    "environment_and_display_flood",
    "planted_course_lib",
}
"""The cases that attack the kernel's confinement, graded again in a forked kernel."""
CLI_ONLY = {"kill_the_grader"}
"""Graded only through ``course grade``: if the defence failed, it would kill the test worker."""
UNDER_A_TERMINAL = {"tty_injection"}
"""Graded through ``course grade`` under a real pseudo-terminal (test_terminal_attacks.py)."""
PRESTARTED = {"forged_handin", "grader_files", "lambda_writes_files"}
"""Judged as ``course grade`` judges, by a graders' process started with the notebook (not the
warm server's fork): it waits, confined, beside the kernel while the attack runs."""


def _param(case: Case):
    return pytest.param(case, id=case.name, marks=pytest.mark.xdist_group(f"adv-{case.name}"))


def assert_outcome(case: Case, tests: list[dict], score: float) -> None:
    """Failing tests fail with the expected first line; every other test gets full points."""
    observed = {
        t["id"]: (t["passed"], t["points"], t["message"].splitlines()[0] if t["message"] else "")
        for t in tests
    }
    if case.ungradable:
        expected = {t["id"]: (False, 0.0, observed[t["id"]][2]) for t in tests}
        assert all(m.startswith(f"not graded: {case.ungradable}") for *_, m in observed.values())
    else:
        assert set(case.failing) <= set(observed), set(case.failing) - set(observed)
        expected = {
            t["id"]: (False, 0.0, case.failing[t["id"]])
            if t["id"] in case.failing
            else (True, t["max_points"], "passed")
            for t in tests
        }
    assert observed == expected
    assert score == sum(t["max_points"] for t in tests if t["passed"])


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


_FENCED = re.compile(r"^(`{3,})text\n.*\n\1$", re.DOTALL)


def viewer_html(notebook: dict) -> str:
    """Everything of a graded notebook a viewer renders as HTML rather than as text.

    Rich outputs (all but ``text/plain``, which viewers escape) and markdown cells other than
    a student's own text shown as a plain-text block; code, tracebacks and streams are
    always shown as text.
    """
    parts = []
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] != "code" and not _FENCED.match(source):
            parts.append(source)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            parts += [json.dumps(v) for k, v in data.items() if k != "text/plain"]
            parts.append(json.dumps(output.get("metadata", {})))
    return "\n".join(parts)


def assert_graded_notebook(case: Case, notebook: dict) -> None:
    """The graded notebook shows what it must, and nothing that runs a script or leaks."""
    for cell in notebook["cells"]:  # nbformat stores multi-line text as lists of lines
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
    text = json.dumps(notebook, ensure_ascii=False)
    outputs = json.dumps([cell.get("outputs", []) for cell in notebook["cells"]])
    for expected in case.shown:
        assert expected in text, (case.name, expected)
    for unexpected in case.never_shown:
        assert unexpected not in outputs, (case.name, unexpected[:40])
    rendered = viewer_html(notebook).lower()
    assert not [m for m in SCRIPT_MARKERS if m in rendered], case.name
    assert len(text) < 2_000_000, len(text)


@pytest.mark.slow
@pytest.mark.parametrize(
    "case", [_param(c) for c in iter_cases() if c.name not in CLI_ONLY | UNDER_A_TERMINAL]
)
def test_adversarial_submission(course, warm_graders, case, tmp_path, monkeypatch):
    graders = None if case.name in PRESTARTED else warm_graders
    grade_and_check(case, course, tmp_path, monkeypatch, graders=graders)


@pytest.mark.slow
@pytest.mark.parametrize("case", [_param(c) for c in iter_cases() if c.name in IN_FORKED_KERNEL])
def test_adversarial_submission_in_a_forked_kernel(
    course, warm_server, case, tmp_path, monkeypatch
):
    """The attacks on the kernel's confinement, in a kernel forked as a batch forks it."""
    grade_and_check(
        case,
        course,
        tmp_path,
        monkeypatch,
        graders=warm.grader_runner(warm_server.address),
        kernel_server=asdict(warm_server.address),
    )


def grade_and_check(case: Case, course, tmp_path: Path, monkeypatch, **engine) -> None:
    """Grade ``case`` (``engine``: how graders and kernel start) and check what it expects."""
    monkeypatch.setenv("COURSE_TEST_SECRET", SECRET)
    graded = tmp_path / "graded.ipynb"
    report = grade_notebook(
        case.path,
        course=course,
        lesson=case.lesson,
        limits=case.limits,
        graded_copy=graded,
        **engine,
    )
    check_report(case, report, graded, course)


def check_report(case: Case, report, graded: Path, course) -> None:
    """The report and graded notebook say what ``case`` expects, and nothing leaked."""
    if case.ungradable:
        assert report.ungradable and report.ungradable.startswith(case.ungradable)
    else:
        assert report.ungradable is None, report.ungradable
        assert report.status == case.status, (report.status, report.reason)
        assert report.landlock_abi and report.landlock_abi >= 5
        assert_graded_notebook(case, json.loads(graded.read_text(encoding="utf-8")))
    contract = report.as_json()
    assert_outcome(case, contract["tests"], contract["score"])
    assert contract["max_score"] == sum(t.points for t in course.tests(case.lesson))
    for note in case.tampering:
        assert any(note in line for line in report.tampering), (note, report.tampering)
    assert report.exit_code == (2 if case.ungradable else 1 if case.failing else 0)
    assert str(ROOT) not in report.to_json()
    assert not [path for path in FORGED_FILES if path.exists()]
    gradebook = ROOT / "gradebook.db"
    assert not gradebook.exists() or gradebook.read_bytes() != FORGED_GRADEBOOK
    if case.name == "forged_handin":
        started = re.search(r"daemon pid: (\d+)", graded.read_text(encoding="utf-8"))
        assert started, "the daemon never started"
        assert not _alive(int(started.group(1))), "a process of the kernel outlived the grading"


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [_param(c) for c in iter_cases() if c.name in CLI_ONLY | {"empty"}],
)
def test_adversarial_submission_through_the_cli(case):
    limits = case.options
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "course_lib.cli",
            "--course-dir",
            str(ROOT),
            "grade",
            str(case.path),
            "--lesson",
            case.lesson,
            "--json",
            f"--cell-timeout={limits['cell_timeout']}",
            f"--timeout={limits['notebook_timeout']}",
            f"--memory-mb={limits['memory_mb']}",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert finished.returncode == (2 if case.ungradable else 1 if case.failing else 0), (
        finished.stderr[-2000:]
    )
    result = json.loads(finished.stdout)
    assert set(result) == {"lesson", "score", "max_score", "tests"}
    assert result["lesson"] == case.lesson
    for test in result["tests"]:
        assert set(test) == {"id", "points", "max_points", "passed", "message"}
    assert_outcome(case, result["tests"], result["score"])


@pytest.mark.slow
@pytest.mark.xdist_group("adv-batch")
def test_the_lesson_01_corpus_through_the_batch(tmp_path):
    """Does the batch grade every corpus case as ``course grade`` does, and go on?"""
    cases = [case for case in iter_cases(BATCH_LESSON) if case.name in IN_BATCH]
    assert len(cases) == len(IN_BATCH)
    course = copy_course(tmp_path)
    assert release_lesson(course, BATCH_LESSON) == []
    for case in cases:
        folder = course.root / "submitted" / case.name / BATCH_LESSON
        folder.mkdir(parents=True)
        shutil.copy(case.path, folder / f"{BATCH_LESSON}.ipynb")

    result = grade_class(course, BATCH_LESSON, limits=BATCH_LIMITS.with_overrides(workers=2))

    by_student = {s.student: s for s in result.submissions}
    assert set(by_student) == {case.name for case in cases}
    for case in cases:
        submission = by_student[case.name]
        assert (submission.status == "ungradable") == bool(case.ungradable), case.name
        assert submission.max_score == 10.0
        if case.ungradable:
            reason = case.ungradable.replace(f"{case.name}.ipynb", f"{BATCH_LESSON}.ipynb")
            case = replace(case, ungradable=reason)
        assert_outcome(case, [t.as_json() for t in submission.report.tests], submission.score)
        for note in case.tampering:
            assert any(note in line for line in submission.report.tampering), (case.name, note)


# --- the engine defences, without a kernel ------------------------------------------------------


def test_export_ignores_builtins_shadowed_by_the_student(tmp_path):
    """Does a student's `list = ...` or `open = None` leave the hand-in intact?"""
    namespace = {"answer": [1, 2], "list": [3], "type": "x", "open": None, "str": "s", "dict": {}}
    exec(compile(export_cell_source({"answer": "value"}, tmp_path), "<export>", "exec"), namespace)
    assert json.loads((tmp_path / "answer.json").read_text()) == [1, 2]


def test_a_symlink_in_the_handin_is_refused(tmp_path):
    """Can a kernel make the graders read a file outside its hand-in?"""
    outside = tmp_path / "outside.npy"
    np.save(outside, np.zeros(3))
    handin = tmp_path / "handin"
    handin.mkdir()
    (handin / "X.npy").symlink_to(outside)
    (handin / "manifest.json").write_text(json.dumps({"X": {"status": "ok"}}))
    with pytest.raises(CheckFailure, match=r"^`X` is a link to another file, not a hand-in"):
        Handin(handin).array("X")


def test_a_failed_export_is_reported_as_such(tmp_path):
    """When the export cell fails, does the message say so instead of 'not defined'?"""
    incident = "collecting the answers failed: ImportError: json blocked"
    failure = Handin(tmp_path, {"incidents": [incident]}).missing("model")
    assert str(failure).splitlines()[0] == f"`model` could not be collected for grading: {incident}"


def test_another_lessons_notebook_is_recognised(course):
    """Lessons share cell ids: is a lesson 04 notebook still told apart from lesson 01?"""
    release = nbformat.read(course.release_notebook_path("04_mnist_ann"), as_version=4)
    best, overlaps = submission.detect_lesson(release, course.cell_id_sets())
    assert best == "04_mnist_ann"
    assert overlaps["01_regression"] < 0.7


@pytest.mark.slow
@pytest.mark.xdist_group("adv-kit-fault")
def test_a_kernel_that_cannot_import_course_lib_is_a_fault_of_the_kit(monkeypatch, capsys):
    """A broken installation (the sandbox hides course_lib): no grade, exit 1, the cause shown."""
    from course_lib import cli
    from course_lib.grader import confine

    everything = confine.python_read_only_paths()
    hidden = [path for path in everything if path != str(confine.course_lib_dir())]
    monkeypatch.setattr(confine, "python_read_only_paths", lambda: hidden)
    notebook = ROOT / "tests" / "canned" / BATCH_LESSON / "correct.ipynb"
    argv = ["--course-dir", str(ROOT), "grade", str(notebook), "--lesson", BATCH_LESSON]
    code = cli.main([*argv, "--cell-timeout", "60", "--timeout", "300"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "ERROR: the grading kernel cannot import course_lib (" in out
    assert "FAIL  quality" in out and "PASS" not in out
    assert "needs a look: a fault of the kit, not of the submission" in err
