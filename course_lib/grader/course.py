"""The course folder: nbgrader's layout plus the hidden graders.

``source/<lesson>/<lesson>.ipynb`` (instructor), ``release/<lesson>/…`` (students),
``autograder/test_<lesson>.py`` (hidden graders), ``nbgrader_config.py`` at the root.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import nbformat

from course_lib.grader import cells


class CourseError(Exception):
    """The course folder is not as expected."""


@dataclass(frozen=True)
class Course:
    root: Path

    @classmethod
    def find(cls, start: Path | None = None) -> Course:
        """The course folder containing ``start`` (default: the working folder or $COURSE_DIR)."""
        start = Path(start or os.environ.get("COURSE_DIR") or Path.cwd()).resolve()
        for folder in (start, *start.parents):
            if (folder / "nbgrader_config.py").is_file() and (folder / "source").is_dir():
                return cls(folder)
        raise CourseError(
            f"no course folder found at or above {start} "
            "(looked for nbgrader_config.py and source/)"
        )

    @property
    def source_dir(self) -> Path:
        return self.root / "source"

    @property
    def release_dir(self) -> Path:
        return self.root / "release"

    @property
    def autograder_dir(self) -> Path:
        return self.root / "autograder"

    @cached_property
    def lessons(self) -> list[str]:
        return sorted(
            p.parent.name for p in self.source_dir.glob("*/*.ipynb") if p.stem == p.parent.name
        )

    def check_lesson(self, lesson: str) -> str:
        if lesson not in self.lessons:
            known = ", ".join(self.lessons) or "none"
            raise CourseError(f"unknown lesson {lesson!r} (lessons: {known})")
        return lesson

    def source_notebook_path(self, lesson: str) -> Path:
        return self.source_dir / lesson / f"{lesson}.ipynb"

    def release_notebook_path(self, lesson: str) -> Path:
        return self.release_dir / lesson / f"{lesson}.ipynb"

    def grader_path(self, lesson: str) -> Path:
        return self.autograder_dir / f"test_{lesson}.py"

    def source_notebook(self, lesson: str) -> nbformat.NotebookNode:
        return nbformat.read(self.source_notebook_path(self.check_lesson(lesson)), as_version=4)

    def tests(self, lesson: str) -> list[cells.GradedTest]:
        return cells.graded_tests(self.source_notebook(lesson))

    def lesson_data(self, lesson: str) -> list[str]:
        """The files the lesson declares as its data, relative to ``source/<lesson>/``.

        A lesson declares them in its source notebook's metadata, ``{"course": {"data":
        ["weather.csv", ...]}}``; nothing else in its folder is released or graded with it.
        """
        meta = self.source_notebook(lesson).metadata.get("course", {})
        declared = meta.get("data", []) if isinstance(meta, dict) else None
        if not isinstance(declared, list) or not all(isinstance(d, str) for d in declared):
            raise CourseError(f"{lesson}: metadata course.data must be a list of relative paths")
        for name in declared:
            path = Path(name)
            if path.is_absolute() or ".." in path.parts or not path.parts:
                raise CourseError(
                    f"{lesson}: lesson data {name!r} must be a path inside source/{lesson}/"
                )
        return declared

    def lesson_files(self, lesson: str) -> list[Path]:
        """The declared data files shipped beside the lesson notebook (see :meth:`lesson_data`)."""
        folder = self.source_dir / lesson
        return [folder / name for name in self.lesson_data(lesson) if (folder / name).is_file()]

    def cell_id_sets(self) -> dict[str, set[str]]:
        return {lesson: cells.cell_ids(self.source_notebook(lesson)) for lesson in self.lessons}

    def handin_spec(self, lesson: str) -> dict:
        """The ``HANDIN`` mapping of the lesson's grader file (read without importing it)."""
        path = self.grader_path(self.check_lesson(lesson))
        if not path.is_file():
            raise CourseError(f"no grader for {lesson}: {path} is missing")
        spec = grader_constant(path, "HANDIN")
        if spec is None:
            raise CourseError(f"{path} defines no HANDIN mapping")
        return spec


def grader_constant(path: Path, name: str):
    """The literal value a grader file assigns to ``name`` (read without importing it), or None."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    return None
