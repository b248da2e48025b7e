"""Does `course grade --json` keep its stable contract, even for files that cannot be graded?"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT

KEYS = {"lesson", "score", "max_score", "tests"}
TEST_KEYS = {"id", "points", "max_points", "passed", "message"}


def course(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "course_lib.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("content", "lesson", "reason"),
    [
        (b"", "01_regression", "is an empty file, not a notebook"),
        (b"{broken", "01_regression", "is not valid JSON"),
        (b"\x89PNG\r\n", None, "is not UTF-8 text"),
        (b'{"nbformat": 4, "cells": [], "x": ' + b"[" * 100_000, None, "nested too deeply"),
        (
            b'{"nbformat": 4, "cells": [' + b'{"cell_type": "raw"},' * 3000 + b"{}]}",
            None,
            "3,001 cells",
        ),
    ],
)
def test_ungradable_file_exits_2_with_one_json_object(tmp_path, content, lesson, reason):
    path = tmp_path / "submission.ipynb"
    path.write_bytes(content)
    done = course("grade", str(path), "--json", *(["--lesson", lesson] if lesson else []))
    assert done.returncode == 2
    report = json.loads(done.stdout)  # exactly one JSON object, nothing else on stdout
    assert set(report) == KEYS
    assert report["lesson"] == lesson and report["score"] == 0.0
    if lesson:
        assert report["max_score"] == 10.0
        assert [set(t) for t in report["tests"]] == [TEST_KEYS] * 5
        assert all(not t["passed"] and reason in t["message"] for t in report["tests"])
    else:
        assert report["tests"] == [] and report["max_score"] == 0.0
    assert reason in done.stderr


def test_notebook_of_another_lesson_is_refused(tmp_path):
    done = course(
        "grade",
        str(ROOT / "tests/canned/01_regression/correct.ipynb"),
        "--lesson",
        "nope",
        "--json",
    )
    assert done.returncode == 2
    assert "unknown lesson 'nope'" in done.stderr


def test_grade_outside_a_course_folder_says_so(tmp_path):
    done = course("grade", "x.ipynb", cwd=tmp_path)
    assert done.returncode == 2
    assert "no course folder found" in done.stderr


def test_help_lists_the_commands():
    done = course("--help")
    for command in ("grade", "release", "validate", "data", "demo"):
        assert command in done.stdout


def test_grading_starts_without_jsonschemas_iri_grammar(tmp_path):
    """nbformat imports jsonschema, which builds an IRI grammar (1.4 s) no notebook needs."""
    notebook = tmp_path / "empty.ipynb"
    notebook.write_bytes(b"")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "course_lib.cli", "grade", str(notebook)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert {"nbformat.validator", "jsonschema"} <= imported
    assert "rfc3987_syntax.syntax_helpers" not in imported
    assert done.returncode == 2
