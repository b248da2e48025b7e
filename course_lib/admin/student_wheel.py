"""The students' package: the student library as a wheel of its own, with pinned requirements.

``course build-student`` (``make student-wheel``) writes into ``dist/student/``:

* ``course_kit_student-<version>-py3-none-any.whl``: ``course_lib``'s student modules (what
  notebooks import) and ``course data import|check``; no grading engine, no class tools,
  no graders, no lesson notebook;
* ``requirements.txt``: every package of a student's environment (the lessons' libraries,
  JupyterLab and nbgrader for Validate and the Assignment List) pinned to the version the
  course is tested with here.

The wheel is checked after it is built (:func:`check_wheel`): only the allowed files, and no
line of any source notebook's solutions or hidden tests anywhere in it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import nbformat

import course_lib
from course_lib.admin.release import secret_lines
from course_lib.grader.course import Course

DISTRIBUTION = "course-kit-student"
PACKAGE = Path(course_lib.__file__).parent
LAB_PACKAGES = ("jupyterlab", "nbgrader")
"""What a student's JupyterLab needs for Validate and the Assignment List (extra ``lab``)."""
ADMIN_MODULES = ("__init__.py", "datasets.py", "student_cli.py")
"""The part of ``course_lib.admin`` behind ``course data import|check``."""


class StudentWheelError(Exception):
    """The student wheel could not be built, or holds what it must not."""


@dataclass(frozen=True)
class StudentBundle:
    wheel: Path
    requirements: Path


def student_files() -> dict[str, Path]:
    """Path inside the wheel → source file: the student library and the data commands."""
    files = {f"course_lib/{p.name}": p for p in sorted(PACKAGE.glob("*.py")) if p.name != "cli.py"}
    files["course_lib/py.typed"] = PACKAGE / "py.typed"
    files.update({f"course_lib/admin/{n}": PACKAGE / "admin" / n for n in ADMIN_MODULES})
    return files


def _requirement_names(course: Course) -> list[str]:
    from packaging.requirements import Requirement

    project = tomllib.loads((course.root / "pyproject.toml").read_text(encoding="utf-8"))
    return [Requirement(r).name for r in project["project"]["dependencies"]]


def pinned(names) -> list[str]:
    """``name==version`` for each installed distribution in ``names``."""
    return [f"{name}=={metadata.version(name)}" for name in names]


def requirement_closure(roots: list[str]) -> list[str]:
    """Every distribution ``roots`` need here (markers evaluated, extras followed), pinned."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    versions: dict[str, str] = {}
    extras_seen: dict[str, set[str]] = {}
    queue = [Requirement(root) for root in roots]
    while queue:
        requirement = queue.pop()
        name = canonicalize_name(requirement.name)
        extras = set(requirement.extras)
        if name in versions and extras <= extras_seen[name]:
            continue
        dist = metadata.distribution(requirement.name)
        versions[name] = dist.version
        extras_seen[name] = extras_seen.get(name, set()) | extras
        for text in dist.requires or []:
            needed = Requirement(text)
            active = {"", *extras_seen[name]}
            if needed.marker is None or any(needed.marker.evaluate({"extra": e}) for e in active):
                queue.append(needed)
    return [f"{name}=={versions[name]}" for name in sorted(versions)]


def _pyproject(course: Course) -> str:
    """The student wheel's pyproject.toml (JSON strings and lists are valid TOML)."""
    text = json.dumps
    return "\n".join(
        [
            "[build-system]",
            'requires = ["setuptools>=77"]',
            'build-backend = "setuptools.build_meta"',
            "[project]",
            f"name = {text(DISTRIBUTION)}",
            f"version = {text(course_lib.__version__)}",
            f"description = {text('The Keras course student library: data, plots, checks.')}",
            'requires-python = ">=3.11"',
            f"dependencies = {text(pinned(_requirement_names(course)))}",
            "[project.optional-dependencies]",
            f"lab = {text(pinned(LAB_PACKAGES))}",
            "[project.scripts]",
            'course = "course_lib.admin.student_cli:main"',
            "[tool.setuptools]",
            'packages = ["course_lib", "course_lib.admin"]',
            "[tool.setuptools.package-data]",
            'course_lib = ["py.typed"]',
            "",
        ]
    )


def build_wheel(course: Course, out: Path) -> Path:
    """Build the student wheel into ``out``; return its path."""
    with tempfile.TemporaryDirectory(prefix="course-student-") as tmp:
        project = Path(tmp)
        for name, source in student_files().items():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, project / name)
        (project / "pyproject.toml").write_text(_pyproject(course), encoding="utf-8")
        built = Path(tmp) / "wheel"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--no-build-isolation",
                "--quiet",
                "--wheel-dir",
                str(built),
                str(project),
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise StudentWheelError(f"pip wheel failed:\n{done.stderr[-2000:]}")
        (wheel,) = built.glob("*.whl")
        out.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(wheel, out / wheel.name))


def check_wheel(course: Course, wheel: Path) -> list[str]:
    """What is wrong with ``wheel`` for students (empty: nothing)."""
    problems = []
    allowed = set(student_files())
    secrets: set[str] = set()
    for lesson in course.lessons:
        solution, hidden = secret_lines(nbformat.read(course.source_notebook_path(lesson), 4))
        secrets |= solution | hidden
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if ".dist-info/" in name:
                continue
            if name not in allowed:
                problems.append(f"{name}: not part of the student library")
                continue
            text = archive.read(name).decode("utf-8", errors="replace")
            leaked = sorted({line.strip() for line in text.splitlines()} & secrets)
            problems += [f"{name}: contains lesson code {line!r}" for line in leaked]
    return problems


def build_student_bundle(course: Course, out: Path | None = None) -> StudentBundle:
    """The checked wheel and the pinned requirements in ``out`` (default dist/student)."""
    out = out or course.root / "dist" / "student"
    if out.is_dir():
        shutil.rmtree(out)
    wheel = build_wheel(course, out)
    problems = check_wheel(course, wheel)
    if problems:
        wheel.unlink()
        raise StudentWheelError("the student wheel is not clean:\n" + "\n".join(problems))
    roots = [*_requirement_names(course), *LAB_PACKAGES]
    requirements = out / "requirements.txt"
    requirements.write_text(
        f"# {DISTRIBUTION} {course_lib.__version__}: a student's environment, every package at\n"
        f"# the version this course was tested with (Python "
        f"{sys.version_info.major}.{sys.version_info.minor}, {sys.platform}). Install with\n"
        f"#   pip install -r requirements.txt {wheel.name}\n"
        + "\n".join(requirement_closure(roots))
        + "\n",
        encoding="utf-8",
    )
    return StudentBundle(wheel, requirements)
