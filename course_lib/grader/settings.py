"""Grading limits: defaults here, the course's values in ``nbgrader_config.py``, flags last.

Configuration flows one way. :data:`DEFAULT_LIMITS` holds the defaults; the course's
``nbgrader_config.py`` overrides them with traitlets (``c.Execute.timeout`` is nbgrader's
own per-cell timeout, the others are :class:`~course_lib.grader.nbgrader_execute.
GradedExecute`'s and ``ClassGrading``'s options); ``course`` command-line flags override
both (:meth:`Limits.with_overrides`). ``nbgrader autograde`` and ``course grade`` read the
same file, so they grade with the same limits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path


@dataclass(frozen=True)
class Limits:
    """How much time and memory one submission may use."""

    cell_timeout: int = 600
    """Seconds one cell may run (nbgrader's default of 30 s is far too short for training)."""
    notebook_timeout: int = 1800
    """Seconds the whole submission may run, all cells together."""
    memory_mb: int = 6144
    """Resident memory of the kernel and its children, enforced from outside the kernel."""
    verdict_timeout: int = 600
    """Seconds the hidden graders may take on one hand-in."""
    max_output_chars: int = 100_000
    """Text output kept per cell (printed, displayed or raised); the rest is cut."""
    max_notebook_mb: int = 20
    """Submitted notebooks larger than this are not read, let alone graded."""
    max_cells: int = 2_000
    """Submitted notebooks with more cells than this are not graded (lessons have ~30)."""
    threads: int = 0
    """CPU threads for TensorFlow in the kernel and the graders; 0 = all cores."""
    workers: int = 0
    """Submissions ``course grade --all`` grades at once; 0 = one per core, memory allowing."""

    def with_overrides(self, **changes) -> Limits:
        """A copy with the given fields changed (None values ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def max_notebook_bytes(self) -> int:
        return self.max_notebook_mb * 2**20

    def thread_env(self) -> dict[str, str]:
        """Environment that pins TensorFlow/OpenMP to ``threads`` CPU threads."""
        threads = self.threads or (os.cpu_count() or 1)
        return {
            "OMP_NUM_THREADS": str(threads),
            "TF_NUM_INTRAOP_THREADS": str(threads),
            "TF_NUM_INTEROP_THREADS": str(max(1, min(2, threads))),
        }


DEFAULT_LIMITS = Limits()

CONFIG_FILE = "nbgrader_config.py"

# Limits field -> (traitlets section, option) in nbgrader_config.py
CONFIG_KEYS = {
    "cell_timeout": ("Execute", "timeout"),
    "notebook_timeout": ("GradedExecute", "notebook_timeout"),
    "memory_mb": ("GradedExecute", "memory_mb"),
    "verdict_timeout": ("GradedExecute", "verdict_timeout"),
    "max_output_chars": ("GradedExecute", "max_output_chars"),
    "max_notebook_mb": ("GradedExecute", "max_notebook_mb"),
    "max_cells": ("GradedExecute", "max_cells"),
    "workers": ("ClassGrading", "workers"),
}


def limits_from_config(config) -> Limits:
    """The limits a traitlets ``config`` sets, over the defaults."""
    values = {}
    for name, (section, option) in CONFIG_KEYS.items():
        if section in config and option in config[section]:
            values[name] = int(config[section][option])
    return DEFAULT_LIMITS.with_overrides(**values)


def load_limits(course_root: Path) -> Limits:
    """The limits of the course at ``course_root`` (its ``nbgrader_config.py``, if any)."""
    from traitlets.config.loader import PyFileConfigLoader

    if not (Path(course_root) / CONFIG_FILE).is_file():
        return DEFAULT_LIMITS
    config = PyFileConfigLoader(CONFIG_FILE, path=str(course_root)).load_config()
    return limits_from_config(config)


def limit_names() -> list[str]:
    return [f.name for f in fields(Limits)]


COURSE_ID = "keras-course"
