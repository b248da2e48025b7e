"""Release lessons with nbgrader, then prove the release leaks nothing.

:func:`release_lesson` refuses a lesson folder holding files the lesson does not declare
as its data (:func:`undeclared_files`: a trained model left by a run, say), gives the
source notebook the metadata a kernel fills in (:func:`normalise_metadata`, so opening a
notebook in JupyterLab does not mark it modified), runs ``nbgrader generate_assignment``
into ``release/`` and then :func:`scan_release`, which fails loudly if a released file
contains solution code, hidden-test code, outputs, or anything naming the hidden graders.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_lib.grader import cells
from course_lib.grader.course import Course, CourseError

MARKERS = tuple(marker.removeprefix("### ") for marker in cells.MARKERS)
# Words that would point a student at the hidden graders.
GRADER_WORDS = ("autograder", "hidden_test", "course_lib.hidden", "HANDIN", "verdict")


class ReleaseError(Exception):
    """nbgrader failed, or the release leaks something."""


@dataclass(frozen=True)
class Leak:
    path: Path
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}"


def _stripped(lines: list[str]) -> set[str]:
    return {line.strip() for line in lines}


def secret_lines(source: nbformat.NotebookNode) -> tuple[set[str], set[str]]:
    """Solution lines and hidden-test lines that appear nowhere else in the source notebook."""
    solution, hidden, public = set(), set(), set()
    for cell in source.cells:
        text = cells.source_text(cell)
        sol_in, sol_out = (_stripped(part) for part in cells.split_region(text, cells.SOLUTION))
        hid_in, hid_out = (_stripped(part) for part in cells.split_region(text, cells.HIDDEN_TESTS))
        solution.update(sol_in)
        hidden.update(hid_in)
        public.update(line for line in sol_out & hid_out if not line.startswith("###"))
    meaningful = {line for line in solution | hidden if len(line) > 3 and not line.startswith("#")}
    return (solution & meaningful) - public, (hidden & meaningful) - public


def scan_release(course: Course, lesson: str) -> list[Leak]:
    """Everything in ``release/<lesson>`` that a student must not see."""
    leaks: list[Leak] = []
    folder = course.release_dir / lesson
    notebook_path = course.release_notebook_path(lesson)
    if not notebook_path.is_file():
        return [Leak(notebook_path, "the released notebook is missing")]
    solution, hidden = secret_lines(course.source_notebook(lesson))
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(course.root)
        if (
            "autograder" in path.parts
            or path.name.startswith("test_")
            or path.name == "conftest.py"
        ):
            leaks.append(Leak(rel, "a grader file was released"))
            continue
        if path.suffix == ".ipynb":
            leaks.extend(_scan_notebook(path, rel, solution, hidden))
        elif path.suffix in {".py", ".txt", ".md", ".json", ".cfg", ".toml"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            leaks.extend(Leak(rel, f"mentions {w!r}") for w in GRADER_WORDS if w in text)
    return leaks


def _scan_notebook(path: Path, rel: Path, solution: set[str], hidden: set[str]) -> list[Leak]:
    leaks = []
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        where = f"cell {index + 1}"
        text = str(cell.source)
        lines = {line.strip() for line in text.splitlines()}
        for marker in MARKERS:
            if marker in text:
                leaks.append(Leak(rel, f"{where} still has a '{marker}' marker"))
        leaks.extend(
            Leak(rel, f"{where} contains solution code: {line!r}")
            for line in sorted(lines & solution)
        )
        leaks.extend(
            Leak(rel, f"{where} contains hidden-test code: {line!r}")
            for line in sorted(lines & hidden)
        )
        leaks.extend(Leak(rel, f"{where} mentions {w!r}") for w in GRADER_WORDS if w in text)
        if cell.cell_type == "code" and cell.get("outputs"):
            leaks.append(Leak(rel, f"{where} has outputs (they may show solution results)"))
    return leaks


def venv_env() -> dict[str, str]:
    """The environment with this interpreter's scripts first on PATH (nbgrader runs `alembic`)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


# What nbgrader's CourseDirectory.ignore skips in a lesson folder (nbgrader_config.py).
IGNORED = (".ipynb_checkpoints", "*.pyc", "__pycache__", ".course")

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def undeclared_files(course: Course, lesson: str) -> list[Path]:
    """Files in ``source/<lesson>/`` that are neither the notebook nor declared lesson data."""
    folder = course.source_dir / lesson
    try:
        declared = {Path(name) for name in course.lesson_data(lesson)}
    except CourseError as exc:
        raise ReleaseError(str(exc)) from None
    notebook = Path(f"{lesson}.ipynb")
    found = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(fnmatch.fnmatch(part, pattern) for part in rel.parts for pattern in IGNORED):
            continue
        if path.is_file() and rel != notebook and rel not in declared:
            found.append(path)
    return found


def kernel_metadata() -> dict:
    """The notebook metadata JupyterLab's kernel fills in when it starts (this Python's)."""
    from ipykernel.ipkernel import IPythonKernel

    return {"kernelspec": dict(KERNELSPEC), "language_info": dict(IPythonKernel.language_info)}


def normalise_metadata(path: Path) -> bool:
    """Give the notebook at ``path`` the kernel's metadata and no outputs; True if changed.

    An instructor who runs the source notebook in JupyterLab leaves outputs and execution
    counts in it (autosave writes them): they are cleared. ``kernelspec`` and
    ``language_info`` become what a kernel fills in. The cells' code stays as written.
    """
    notebook = nbformat.read(path, as_version=4)
    wanted = kernel_metadata()
    run = [c for c in notebook.cells if c.cell_type == "code" and (c.outputs or c.execution_count)]
    if not run and all(notebook.metadata.get(key) == value for key, value in wanted.items()):
        return False
    notebook.metadata.update(wanted)
    for cell in run:
        cell.outputs = []
        cell.execution_count = None
    nbformat.write(notebook, path)
    return True


def release_lesson(course: Course, lesson: str) -> list[Leak]:
    """Check the lesson folder, normalise the source's metadata, run nbgrader's
    generate_assignment for ``lesson``, then scan the release."""
    course.check_lesson(lesson)
    stray = undeclared_files(course, lesson)
    if stray:
        listed = "\n".join(f"    {path.relative_to(course.root)}" for path in stray)
        raise ReleaseError(
            f"source/{lesson}/ holds files that are not lesson data:\n{listed}\n"
            "  delete them (a lesson writes its models and exports to data.scratch_dir), or "
            'declare real data in the notebook\'s metadata: {"course": {"data": [...]}}'
        )
    normalise_metadata(course.source_notebook_path(lesson))
    cmd = [
        sys.executable,
        "-m",
        "nbgrader",
        "generate_assignment",
        lesson,
        "--force",
        "--CourseDirectory.root=" + str(course.root),
    ]
    done = subprocess.run(cmd, cwd=course.root, capture_output=True, text=True, env=venv_env())
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise ReleaseError(f"nbgrader generate_assignment {lesson} failed:\n{tail}")
    return scan_release(course, lesson)
