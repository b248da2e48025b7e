"""Grading limits and defaults, defined once for the CLI, nbgrader and the tests."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace


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
    """Printed output kept per cell; the rest is cut (the grade never depends on it)."""
    threads: int = 0
    """CPU threads for TensorFlow in the kernel and the graders; 0 = all cores."""

    def with_overrides(self, **changes) -> Limits:
        """A copy with the given fields changed (None values ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def thread_env(self) -> dict[str, str]:
        """Environment that pins TensorFlow/OpenMP to ``threads`` CPU threads."""
        threads = self.threads or (os.cpu_count() or 1)
        return {
            "OMP_NUM_THREADS": str(threads),
            "TF_NUM_INTRAOP_THREADS": str(threads),
            "TF_NUM_INTEROP_THREADS": str(max(1, min(2, threads))),
        }


DEFAULT_LIMITS = Limits()

COURSE_ID = "keras-course"
