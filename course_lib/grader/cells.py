"""Reading nbgrader's cell metadata, and the marked regions nbgrader removes on release.

Everything that asks "which cell is this?" (a grade cell, an answer cell, its id and
points) or "what is inside ``### BEGIN …``/``### END …``?" goes through this module, so
the grader, the release scan, the feedback and the tests agree on one reading.
"""

from __future__ import annotations

from dataclasses import dataclass

SOLUTION = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_TESTS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
MARKERS = (*SOLUTION, *HIDDEN_TESTS)


def nbgrader_meta(cell) -> dict:
    """The cell's nbgrader metadata (empty dict if none or malformed)."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def grade_id(cell) -> str | None:
    value = nbgrader_meta(cell).get("grade_id")
    return value if isinstance(value, str) and value else None


def is_answer(cell) -> bool:
    """A cell the student writes (solution), but not a manually graded one."""
    return bool(nbgrader_meta(cell).get("solution"))


def is_test(cell) -> bool:
    """An autograded test cell: grade, not solution."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell.get("cell_type") == "code"


@dataclass(frozen=True)
class GradedTest:
    """One grade cell of the instructor's source: its id and points."""

    id: str
    points: float


def graded_tests(notebook) -> list[GradedTest]:
    """The notebook's grade cells, in order."""
    return [
        GradedTest(grade_id(cell), float(nbgrader_meta(cell).get("points", 0)))
        for cell in notebook.cells
        if is_test(cell)
    ]


def cell_ids(notebook) -> set[str]:
    return {gid for cell in notebook.get("cells", []) if (gid := grade_id(cell))}


def source_text(cell) -> str:
    """A cell's source as one string (nbformat allows a list of lines on disk)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def split_region(text: str, markers: tuple[str, str]) -> tuple[list[str], list[str]]:
    """Lines inside the ``markers`` regions, and lines outside them (marker lines dropped)."""
    begin, end = markers
    inside, outside, active = [], [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(begin):
            active = True
        elif stripped.startswith(end):
            active = False
        elif active:
            inside.append(line)
        else:
            outside.append(line)
    return inside, outside


def hidden_region(cell) -> str:
    """The code between a cell's hidden-test markers ('' if it has none)."""
    inside, _ = split_region(source_text(cell), HIDDEN_TESTS)
    return "\n".join(inside).strip()


def without_hidden_tests(text: str) -> str:
    """``text`` as nbgrader releases it: the hidden-test regions cut out."""
    if HIDDEN_TESTS[0] not in text:
        return text
    return "\n".join(split_region(text, HIDDEN_TESTS)[1])


HIDDEN_TEST_LINE = (
    'from course_lib.hidden import hidden_test; hidden_test("{lesson}", "{test_id}")  # noqa'
)


def hidden_test_call(lesson: str, test_id: str) -> str:
    """The one line a grade cell's hidden region holds (ruff lints lessons: one line, noqa)."""
    return HIDDEN_TEST_LINE.format(lesson=lesson, test_id=test_id)
