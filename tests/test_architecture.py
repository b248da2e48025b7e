"""Do imports follow the audiences: student library ← grader ← classroom ← admin ← cli?

The student package (``course_lib``'s top-level modules, what notebooks import) must work
without the instructor's extras; the grading engine never reaches up into the class-scale
machinery or the course administration. Checked on the source (every ``import``, function
bodies included) and by importing the student modules with the instructor extras blocked.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "course_lib"
LAYERS = ["student", "grader", "classroom", "admin", "cli"]
"""Each layer may import its own and the layers before it, never one after it."""
NARROW_ENTRY = ("course_lib.hidden", "course_lib.grader.selfgrade")
"""The one import from the student library into the grader: a hidden test run in Jupyter."""
INSTRUCTOR_ONLY = (
    "nbgrader", "nbclient", "nbformat", "nbconvert", "jupyter_client", "ipykernel", "psutil",
    "pytest", "dask", "distributed", "traitlets", "sqlalchemy", "jinja2", "nh3",
)  # fmt: skip


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in {"grader", "classroom", "admin"}:
        return parts[1]
    return "cli" if module == "course_lib.cli" else "student"


def imports(path: Path) -> set[str]:
    """Every module of course_lib that ``path`` imports, anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            for alias in node.names:  # `from course_lib.grader import cells` imports a module
                candidate = f"{node.module}.{alias.name}"
                if (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").is_file():
                    found.add(candidate)
    return {name for name in found if name == "course_lib" or name.startswith("course_lib.")}


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_has_an_audience():
    assert {layer(m) for m in MODULES} == set(LAYERS)
    assert [m for m in MODULES if layer(m) == "student"] == [
        "course_lib",
        "course_lib.checks",
        "course_lib.data",
        "course_lib.hidden",
        "course_lib.inspection",
        "course_lib.plots",
        "course_lib.pretrained",
        "course_lib.session",
        "course_lib.training_checks",
        "course_lib.transfer_checks",
    ]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_the_layers(module):
    own = LAYERS.index(layer(module))
    upward = sorted(
        imported
        for imported in imports(MODULES[module])
        if LAYERS.index(layer(imported)) > own and (module, imported) != NARROW_ENTRY
    )
    assert upward == [], f"{module} ({layer(module)}) imports {upward}"


def test_the_grader_is_reached_from_a_notebook_through_one_entry_point():
    student = [m for m in MODULES if layer(m) == "student"]
    reaching = {(m, i) for m in student for i in imports(MODULES[m]) if layer(i) != "student"}
    assert reaching == {NARROW_ENTRY}


BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"instructor extra {name} imported")
sys.meta_path.insert(0, Block())
import course_lib, course_lib.checks, course_lib.data, course_lib.hidden
import course_lib.inspection, course_lib.plots, course_lib.session, course_lib.training_checks
import course_lib.pretrained, course_lib.transfer_checks
print("ok")
"""


def test_student_modules_import_without_the_instructor_extras():
    code = f"BLOCKED = {set(INSTRUCTOR_ONLY)!r}\n{BLOCKER}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr[-2000:]
