"""pytest plugin for the hidden graders: the ``handin`` fixture and one recorded verdict per test.

A test's verdict is its pass/fail only (never printed text). Its message is the
:class:`~course_lib.checks.CheckFailure` text, or a plain note when the student's model
made the grader itself fail (for example a wrong input shape).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course_lib.checks import CheckFailure
from course_lib.grader.handin import Handin
from course_lib.grader.modelcheck import Allowed

_results: dict[str, dict] = {}


def pytest_addoption(parser) -> None:
    group = parser.getgroup("course verdict")
    group.addoption("--handin", help="hand-in folder written by the graded notebook")
    group.addoption("--execution", help="JSON file: how the notebook's execution went")
    group.addoption("--keras-allowed", help="JSON file: the lesson's KERAS_ALLOWED, if any")
    group.addoption("--verdict-out", help="where to write the verdicts (JSON)")
    group.addoption(
        "--handin-ready-fd",
        type=int,
        help="wait, once the graders are collected, for a line on this file descriptor",
    )


def pytest_configure(config) -> None:
    """The graders read each dataset once, read-only (see :func:`data.keep_loaded`)."""
    from course_lib import data

    data.keep_loaded()


def pytest_collection_finish(session) -> None:
    """A process started before the hand-in existed: warm up, then wait until it is there.

    Warming up imports TensorFlow and calls each grader module's ``prepare()``, if it has
    one (loading the grader's own data), while the notebook is still running.
    """
    fd = session.config.getoption("--handin-ready-fd")
    if fd is None:
        return
    import keras  # noqa: F401  (TensorFlow: the seconds this process is started early for)

    for module in {item.module for item in session.items if getattr(item, "module", None)}:
        prepare = getattr(module, "prepare", None)
        if callable(prepare):
            prepare()  # e.g. load the grader's own test data
    with open(fd, encoding="utf-8", closefd=True) as ready:
        if not ready.readline():
            pytest.exit("the hand-in never came", returncode=pytest.ExitCode.INTERRUPTED)


@pytest.fixture(scope="session")
def handin(pytestconfig) -> Handin:
    """The graded notebook's hand-in."""
    folder = pytestconfig.getoption("--handin")
    if not folder:
        pytest.fail("the graders need --handin")
    execution_file = pytestconfig.getoption("--execution")
    execution = (
        json.loads(Path(execution_file).read_text(encoding="utf-8")) if execution_file else {}
    )
    allowed_file = pytestconfig.getoption("--keras-allowed")
    declared = json.loads(Path(allowed_file).read_text(encoding="utf-8")) if allowed_file else {}
    return Handin(Path(folder), execution, Allowed.for_lesson(declared))


def _test_id(item) -> str:
    return item.name.split("[")[0].removeprefix("test_")


def _failure(excinfo) -> dict:
    """A failed test's verdict: a check's message, or a fault of the graders themselves.

    Graders turn every problem of a submission they foresee into a :class:`CheckFailure`
    (or a plain ``assert``); any other exception is a case no grader foresaw, so no grade:
    the kit's fault, a person must look. Running out of memory on a submission's data stays
    that submission's.
    """
    error = excinfo.value
    if isinstance(error, CheckFailure):
        return {"passed": False, "message": error.render()}
    if isinstance(error, AssertionError):
        return {"passed": False, "message": str(error).strip() or "failed"}
    if isinstance(error, MemoryError):
        return {"passed": False, "message": "could not be graded: the graders ran out of memory"}
    text = str(error).strip().splitlines()
    detail = text[0][:200] if text else ""
    return {
        "passed": False,
        "message": f"could not be graded: the grader failed ({type(error).__name__}: {detail})",
        "kit_fault": True,
    }


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    test_id = _test_id(item)
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.passed:
            _results[test_id] = {"passed": True, "message": "passed"}
        else:
            failed = {"passed": False, "message": "failed"}
            _results[test_id] = _failure(call.excinfo) if call.excinfo else failed


def pytest_sessionfinish(session) -> None:
    out = session.config.getoption("--verdict-out")
    if out:
        tmp = Path(f"{out}.tmp")
        tmp.write_text(json.dumps(_results), encoding="utf-8")
        tmp.replace(out)
