"""Does a damaged or tampered submission get a plain reason, and the instructor's cells back?"""

from __future__ import annotations

import copy
import json

import nbformat
import pytest

from course_lib.grader import cells
from course_lib.grader import submission as submissions
from course_lib.grader.submission import UngradableError

from .conftest import CANNED

LESSON = "01_regression"


@pytest.fixture
def source(course):
    return course.source_notebook(LESSON)


@pytest.fixture
def submission():
    return nbformat.read(CANNED / LESSON / "correct.ipynb", as_version=4)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "is an empty file, not a notebook"),
        (b"\xff\xfe\x00garbage", "is not UTF-8 text"),
        (b'{"cells": [', "is not valid JSON (line 1, column 12"),
        (b"[1, 2, 3]", "is JSON but not a Jupyter notebook (no cells)"),
        (
            json.dumps({"cells": [], "nbformat": 3, "metadata": {}}).encode(),
            "is in notebook format 3",
        ),
        (
            json.dumps(
                {
                    "cells": [{"cell_type": "code"}],
                    "nbformat": 4,
                    "nbformat_minor": 5,
                    "metadata": {},
                }
            ).encode(),
            "is not a valid notebook",
        ),
    ],
)
def test_read_submission_gives_a_plain_reason(tmp_path, content, reason):
    path = tmp_path / "sub.ipynb"
    path.write_bytes(content)
    with pytest.raises(UngradableError) as excinfo:
        submissions.read_submission(path)
    assert reason in str(excinfo.value)


def test_read_submission_accepts_a_real_notebook():
    notebook = submissions.read_submission(CANNED / LESSON / "correct.ipynb")
    assert cells.grade_id(notebook.cells[0]) == "intro"


def test_untouched_submission_is_restored_without_notes(source, submission):
    restored = submissions.restore_cells(submission, source)
    assert restored.tampering == []
    assert [cells.grade_id(c) for c in restored.notebook.cells] == [
        cells.grade_id(c) for c in source.cells
    ]


def _cell(notebook, gid):
    return next(c for c in notebook.cells if cells.grade_id(c) == gid)


def test_edited_grade_cell_is_replaced_by_the_original(source, submission):
    _cell(submission, "quality").source = "pass  # I promise it works"
    restored = submissions.restore_cells(submission, source)
    assert _cell(restored.notebook, "quality").source == _cell(source, "quality").source
    assert restored.tampered_tests["quality"] == [
        "grade cell `quality` was edited; the original was used"
    ]


def test_raised_points_and_removed_grade_flag_are_undone(source, submission):
    meta = _cell(submission, "architecture").metadata.nbgrader
    meta["points"] = 100
    meta["grade"] = False
    restored = submissions.restore_cells(submission, source)
    restored_meta = _cell(restored.notebook, "architecture").metadata.nbgrader
    assert restored_meta["points"] == 2 and restored_meta["grade"] is True
    assert restored.tampered_tests["architecture"] == [
        "nbgrader metadata of `architecture` was changed (grade True → False; points 2 → 100); "
        "the original was used"
    ]


def test_deleted_duplicated_and_moved_grade_cells(source, submission):
    submitted = submission.cells
    quality = _cell(submission, "quality")
    submitted.remove(quality)
    submitted.insert(0, quality)  # moved to the top
    submitted.append(copy.deepcopy(_cell(submission, "architecture")))  # duplicated
    submitted.remove(_cell(submission, "preprocessing"))  # deleted
    restored = submissions.restore_cells(submission, source)
    ids = [cells.grade_id(c) for c in restored.notebook.cells]
    assert ids == [cells.grade_id(c) for c in source.cells]
    assert "grade cell `preprocessing` was deleted; the original was restored" in restored.tampering
    assert "cell `architecture` appears more than once; only one copy counts" in restored.tampering
    assert any(note.startswith("cells were moved (`quality`") for note in restored.tampering)


def test_deleted_answer_cell_counts_as_not_answered(source, submission):
    submission.cells.remove(_cell(submission, "part_c_answer"))
    restored = submissions.restore_cells(submission, source)
    assert "NotImplementedError" in _cell(restored.notebook, "part_c_answer").source
    assert (
        "answer cell `part_c_answer` was deleted; it counts as not answered" in restored.tampering
    )


def test_student_extra_cells_stay_after_their_answer(source, submission):
    index = submission.cells.index(_cell(submission, "part_a_answer"))
    submission.cells.insert(index + 1, nbformat.v4.new_code_cell("helper = 1"))
    forged = nbformat.v4.new_code_cell(
        "x = 1", metadata={"nbgrader": {"grade": True, "grade_id": "bonus", "points": 50}}
    )
    submission.cells.append(forged)
    restored = submissions.restore_cells(submission, source)
    sources = [c.source for c in restored.notebook.cells]
    assert sources[sources.index(_cell(submission, "part_a_answer").source) + 1] == "helper = 1"
    bonus = next(c for c in restored.notebook.cells if c.source == "x = 1")
    assert "nbgrader" not in bonus.metadata
    assert "cell `bonus` is not part of this lesson; it ran as ordinary code" in restored.tampering


def test_detect_lesson_by_cell_ids(course, submission):
    lesson, overlaps = submissions.detect_lesson(submission, course.cell_id_sets())
    assert lesson == LESSON and overlaps[LESSON] == 1.0
    assert submissions.detect_lesson(nbformat.v4.new_notebook(), course.cell_id_sets())[0] is None
