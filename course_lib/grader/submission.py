"""Reading submitted notebooks safely and restoring the instructor's cells in them.

A submission is untrusted: it may be a symbolic link, a FIFO, huge, empty, not UTF-8, not
JSON, nested without end, made of 200,000 cells, not nbformat 4, or edited where it should
not be. :func:`read_submission` checks the file before reading it in full and turns every
such case into an :class:`UngradableError` with a plain reason. :func:`restore_cells`
rebuilds the notebook to grade from the instructor's source: read-only and grade cells come
from the source (whatever the student did to them), answer cells and the student's own
extra code cells from the submission (the student's own markdown and raw cells are kept as
plain text, never rendered), and every liberty taken is reported in plain words.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_lib.grader import sanitize
from course_lib.grader.cells import (
    cell_ids,
    grade_id,
    is_answer,
    is_test,
    nbgrader_meta,
    source_text,
    without_hidden_tests,
)
from course_lib.grader.files import RefusedFile, read_regular
from course_lib.grader.settings import DEFAULT_LIMITS, Limits

MAX_JSON_DEPTH = 64
"""How deeply a notebook's cells and metadata may nest (outputs aside, which are dropped)."""


class UngradableError(Exception):
    """The file cannot be graded at all; the message says why, in plain words."""


def read_submission(path: Path, limits: Limits = DEFAULT_LIMITS) -> nbformat.NotebookNode:
    """The notebook at ``path``, or :class:`UngradableError` saying what is wrong with it.

    The file is checked before it is read in full: a regular file (never through a symbolic
    link, a FIFO or a device) of at most ``limits.max_notebook_mb``.
    """
    path = Path(path)
    try:
        raw = read_regular(path, limits.max_notebook_bytes)
    except FileNotFoundError:
        raise UngradableError(f"cannot read {path.name}: there is no such file") from None
    except RefusedFile as exc:
        raise UngradableError(_refused(exc, limits)) from None
    return parse_submission(raw, path.name, limits)


def _refused(exc: RefusedFile, limits: Limits) -> str:
    reason = str(exc)
    if "MB limit" in reason:
        return f"{reason}: notebooks are graded up to {limits.max_notebook_mb} MB " + (
            "(clear the outputs and resubmit)"
        )
    return f"{reason}: only a notebook file itself can be graded"


def _depth(value) -> int:
    """How deeply lists and dicts nest in ``value`` (iteratively: no recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_submission(
    raw: bytes, name: str, limits: Limits = DEFAULT_LIMITS
) -> nbformat.NotebookNode:
    """The notebook in ``raw`` (the bytes of file ``name``), or :class:`UngradableError`.

    The student's own outputs are dropped: grading runs every cell again.
    """
    if not raw:
        raise UngradableError(f"{name} is an empty file, not a notebook")
    if len(raw) > limits.max_notebook_bytes:
        raise UngradableError(
            f"{name} is {len(raw) / 2**20:.0f} MB; notebooks are graded up to "
            f"{limits.max_notebook_mb} MB (clear the outputs and resubmit)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UngradableError(
            f"{name} is not UTF-8 text (byte {exc.start}); it is not a saved Jupyter notebook"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UngradableError(
            f"{name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "the file is damaged or not a notebook"
        ) from None
    except RecursionError:
        raise UngradableError(
            f"{name} is JSON nested too deeply to be a notebook; the file is damaged"
        ) from None
    del text, raw
    if not isinstance(data, dict) or not ("cells" in data or "nbformat" in data):
        raise UngradableError(f"{name} is JSON but not a Jupyter notebook (no cells)")
    if data.get("nbformat") != 4:
        raise UngradableError(
            f"{name} is in notebook format {data.get('nbformat')!r}; only format 4 "
            "(any current Jupyter) can be graded: open and save it in Jupyter"
        )
    cells = data.get("cells")
    if isinstance(cells, list) and len(cells) > limits.max_cells:
        raise UngradableError(
            f"{name} has {len(cells):,} cells; notebooks are graded up to "
            f"{limits.max_cells:,} cells (this lesson has a few dozen)"
        )
    for cell in cells if isinstance(cells, list) else []:
        if isinstance(cell, dict) and "outputs" in cell:
            cell["outputs"] = []
    if _depth(data) > MAX_JSON_DEPTH:
        raise UngradableError(
            f"{name} nests its cells or metadata more than {MAX_JSON_DEPTH} levels deep; "
            "the file is damaged or not a notebook"
        )
    try:
        notebook = nbformat.reads(json.dumps(data), as_version=4)
        nbformat.validate(notebook)
    except (nbformat.ValidationError, ValueError, TypeError, KeyError, RecursionError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UngradableError(f"{name} is not a valid notebook: {message[:200]}") from None
    return notebook


@dataclass
class Restored:
    """The notebook to grade and what the student changed that they should not have."""

    notebook: nbformat.NotebookNode
    tampering: list[str] = field(default_factory=list)
    tampered_tests: dict[str, list[str]] = field(default_factory=dict)

    def note(self, text: str, test: str | None = None) -> None:
        self.tampering.append(text)
        if test:
            self.tampered_tests.setdefault(test, []).append(text)


def _same_source(a, b) -> bool:
    return "\n".join(line.rstrip() for line in str(a).strip().splitlines()) == "\n".join(
        line.rstrip() for line in str(b).strip().splitlines()
    )


_META_KEYS = ("grade", "solution", "locked", "points", "grade_id", "task")


def _meta_changes(student: dict, source: dict) -> list[str]:
    changes = []
    for key in _META_KEYS:
        if student.get(key) != source.get(key):
            changes.append(f"{key} {source.get(key)!r} → {student.get(key)!r}")
    return changes


def restore_cells(submitted: nbformat.NotebookNode, source: nbformat.NotebookNode) -> Restored:
    """Rebuild the notebook to grade: instructor cells from ``source``, answers from the student."""
    source_ids = [grade_id(cell) for cell in source.cells]
    known = {gid for gid in source_ids if gid}
    by_id: dict[str, nbformat.NotebookNode] = {}
    attached: dict[str | None, list] = {None: []}
    seen_order: list[str] = []
    anchor: str | None = None
    result = Restored(notebook=copy.deepcopy(source))

    for cell in submitted.cells:
        gid = grade_id(cell)
        if gid in known:
            if gid in by_id:
                result.note(
                    f"cell `{gid}` appears more than once; only one copy counts",
                    _test_of(source, gid),
                )
                continue
            by_id[gid] = cell
            seen_order.append(gid)
            anchor = gid
            attached.setdefault(gid, [])
            continue
        if cell.get("cell_type") != "code":  # the student's own text: shown, never rendered
            attached.setdefault(anchor, []).append(sanitize.plain_text_cell(cell))
            continue
        extra = copy.deepcopy(cell)
        extra.outputs = []
        if gid or nbgrader_meta(cell):
            result.note(f"cell `{gid or '?'}` is not part of this lesson; it ran as ordinary code")
            extra.metadata.pop("nbgrader", None)
        attached.setdefault(anchor, []).append(extra)

    expected_order = [gid for gid in source_ids if gid in by_id]
    if seen_order != expected_order:
        moved = [a for a, b in zip(seen_order, expected_order, strict=False) if a != b]
        result.note(
            "cells were moved (" + ", ".join(f"`{gid}`" for gid in moved[:3]) + "); "
            "the original order was used"
        )

    cells = list(attached.get(None, []))
    for source_cell in source.cells:
        gid = grade_id(source_cell)
        student_cell = by_id.get(gid) if gid else None
        if gid and is_answer(source_cell):
            cells.append(_answer_cell(source_cell, student_cell, result))
        else:
            cells.append(_protected_cell(source_cell, student_cell, result))
        cells.extend(attached.get(gid, []) if gid else [])
    result.notebook.cells = cells
    return result


def _test_of(source, gid: str) -> str | None:
    for cell in source.cells:
        if grade_id(cell) == gid and is_test(cell):
            return gid
    return None


def _answer_cell(source_cell, student_cell, result: Restored):
    gid = grade_id(source_cell)
    cell = copy.deepcopy(source_cell)
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
    if student_cell is None:
        result.note(f"answer cell `{gid}` was deleted; it counts as not answered")
        cell.source = 'raise NotImplementedError("this answer cell was deleted")'
        return cell
    cell.source = student_cell.get("source", "")
    changes = _meta_changes(nbgrader_meta(student_cell), nbgrader_meta(source_cell))
    if changes:
        result.note(
            f"nbgrader metadata of `{gid}` was changed ({'; '.join(changes)}); "
            "the original was used"
        )
    return cell


def _protected_cell(source_cell, student_cell, result: Restored):
    gid = grade_id(source_cell)
    test = gid if is_test(source_cell) else None
    kind = "grade cell" if test else "read-only cell"
    cell = copy.deepcopy(source_cell)
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
    if gid is None:
        return cell
    if student_cell is None:
        result.note(f"{kind} `{gid}` was deleted; the original was restored", test)
        return cell
    student_source = student_cell.get("source", "")
    if student_cell.get("cell_type") != source_cell.cell_type or not (
        _same_source(student_source, without_hidden_tests(source_text(source_cell)))
        or _same_source(student_source, source_cell.source)
    ):
        result.note(f"{kind} `{gid}` was edited; the original was used", test)
    changes = _meta_changes(nbgrader_meta(student_cell), nbgrader_meta(source_cell))
    if changes:
        result.note(
            f"nbgrader metadata of `{gid}` was changed ({'; '.join(changes)}); "
            "the original was used",
            test,
        )
    return cell


def detect_lesson(notebook, id_sets: dict[str, set[str]]) -> tuple[str | None, dict[str, float]]:
    """The lesson whose cell ids best match the notebook's, with every lesson's overlap.

    The overlap is the Jaccard index of the two id sets: lessons share many ids (``intro``,
    ``setup``, ``part_a_answer``…), so ids the lesson lacks count against it as much as
    ids the notebook lacks.
    """
    ids = cell_ids(notebook)
    overlaps = {
        lesson: (len(ids & lesson_ids) / len(ids | lesson_ids) if lesson_ids else 0.0)
        for lesson, lesson_ids in id_sets.items()
    }
    best = max(overlaps, key=overlaps.get, default=None)
    if best is None or overlaps[best] == 0:
        return None, overlaps
    return best, overlaps
