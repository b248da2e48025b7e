"""Build the canned submissions under tests/canned/<lesson>/ from the released notebooks.

A canned submission is the *released* notebook with its answer cells filled in as a
student would: the reference solution, then, for the mistakes, one or more edits.
Run ``python tests/canned/build.py`` after changing a lesson; commit the result.
Variants are described in ``tests/canned/variants_<lesson>.py`` as ``VARIANTS``:
name → {answer grade_id: [(old, new), ...]} or a callable on the notebook.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def solution_text(source_cell) -> str:
    """A source answer cell as a student would write it: solution kept, markers dropped."""
    return "\n".join(
        line
        for line in str(source_cell.source).splitlines()
        if not line.strip().startswith(("### BEGIN SOLUTION", "### END SOLUTION"))
    )


def filled_in(lesson: str) -> nbformat.NotebookNode:
    """The release notebook with every answer cell holding the reference solution."""
    source = nbformat.read(ROOT / "source" / lesson / f"{lesson}.ipynb", as_version=4)
    release = nbformat.read(ROOT / "release" / lesson / f"{lesson}.ipynb", as_version=4)
    answers = {
        cell.metadata["nbgrader"]["grade_id"]: solution_text(cell)
        for cell in source.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }
    for cell in release.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return release


def apply_edits(notebook, edits) -> nbformat.NotebookNode:
    notebook = copy.deepcopy(notebook)
    if callable(edits):
        return edits(notebook)
    for cell in notebook.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        for old, new in edits.get(gid, []):
            if old not in cell.source:
                raise ValueError(f"{gid}: {old!r} not found")
            cell.source = cell.source.replace(old, new, 1)
    return notebook


def load_variants(lesson: str) -> dict:
    path = HERE / f"variants_{lesson}.py"
    spec = importlib.util.spec_from_file_location(f"variants_{lesson}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.VARIANTS


def build(lesson: str) -> list[Path]:
    out = HERE / lesson
    out.mkdir(exist_ok=True)
    base = filled_in(lesson)
    written = []
    release = nbformat.read(ROOT / "release" / lesson / f"{lesson}.ipynb", as_version=4)
    for name, edits in load_variants(lesson).items():
        notebook = release if edits == "untouched" else apply_edits(base, edits)
        path = out / f"{name}.ipynb"
        nbformat.write(notebook, path)
        written.append(path)
    return written


if __name__ == "__main__":
    lessons = sys.argv[1:] or [p.stem.removeprefix("variants_") for p in HERE.glob("variants_*.py")]
    for lesson in lessons:
        for path in build(lesson):
            print(path.relative_to(ROOT))
