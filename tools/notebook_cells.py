"""Build lesson notebooks with nbgrader cell metadata from a short Python description.

Each lesson's builder (``tools/lessons/<lesson>.py``) lists its cells with these helpers
and writes ``source/<lesson>/<lesson>.ipynb``; ``tests/test_course_consistency.py``
checks that the committed notebook is what its builder writes.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def _meta(grade_id: str, *, grade=False, solution=False, locked=False, points=None) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def _text(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def md(grade_id: str, text: str):
    """A read-only markdown cell (task statements, explanations)."""
    return nbformat.v4.new_markdown_cell(_text(text), metadata=_meta(grade_id, locked=True))


HOW_GRADED = """\
**How this notebook is graded.** Each *Part* states exactly which names you must define
and what they must hold, and how many points it is worth. Write your code where it says
`# YOUR CODE HERE` (delete the `raise NotImplementedError()` line). Run the ungraded
*self-check* cell after each part. Before you submit, restart the kernel and run all
cells from the top: the grader runs your notebook exactly like that, then {checks}"""


def intro(text: str, *, checks: str):
    """The lesson's opening cell: its goals, then how every lesson is graded."""
    return md("intro", _text(text) + "\n\n" + HOW_GRADED.format(checks=checks))


def code(grade_id: str, source: str):
    """A read-only code cell the instructor provides (setup, plots, self-checks)."""
    return nbformat.v4.new_code_cell(_text(source), metadata=_meta(grade_id, locked=True))


def answer(grade_id: str, source: str):
    """A cell the student completes; its ``### BEGIN/END SOLUTION`` part is removed on release."""
    return nbformat.v4.new_code_cell(_text(source), metadata=_meta(grade_id, solution=True))


def grade(lesson: str, test_id: str, points: float):
    """A hidden grade cell: a single call into the hidden graders, nothing to reveal."""
    source = (
        "### BEGIN HIDDEN TESTS\n"
        f'from course_lib.graded import hidden_test; hidden_test("{lesson}", "{test_id}")\n'
        "### END HIDDEN TESTS"
    )
    return nbformat.v4.new_code_cell(
        source, metadata=_meta(test_id, grade=True, locked=True, points=points)
    )


def notebook(cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    for index, cell in enumerate(nb.cells):
        cell.id = (
            f"{cell.metadata['nbgrader']['grade_id'].replace('_', '-')}"[:64] or f"cell-{index}"
        )
    nb.metadata = {
        "kernelspec": {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        },
        "language_info": {"name": "python"},
    }
    return nb


def write(lesson: str, cells, root: Path = ROOT) -> Path:
    """Write ``source/<lesson>/<lesson>.ipynb`` (or print it with ``--stdout``)."""
    nb = notebook(cells)
    nbformat.validate(nb)
    if "--stdout" in sys.argv:
        sys.stdout.write(nbformat.writes(nb))
        sys.exit(0)
    path = root / "source" / lesson / f"{lesson}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
