"""nbgrader integration: ``nbgrader autograde`` grades exactly like ``course grade``.

``nbgrader_config.py`` puts :class:`GradedExecute` where nbgrader's ``Execute`` was.
It restores the notebook against the instructor's source, runs it in the confined
kernel, runs the hidden graders outside the kernel, and writes each verdict as the
grade cell's only output, which nbgrader's ``SaveAutoGrades`` then scores.
"""

from __future__ import annotations

from pathlib import Path

from nbgrader.preprocessors import Execute
from traitlets import Integer

from course_lib import notebooks
from course_lib.course import Course
from course_lib.grading import apply_verdicts, judge
from course_lib.settings import DEFAULT_LIMITS


class GradedExecute(Execute):
    """Execute confined and judge outside the kernel (replaces nbgrader's Execute)."""

    notebook_timeout = Integer(
        DEFAULT_LIMITS.notebook_timeout, help="Seconds the whole notebook may run."
    ).tag(config=True)
    memory_mb = Integer(
        DEFAULT_LIMITS.memory_mb, help="Resident memory cap of the kernel, enforced from outside."
    ).tag(config=True)

    def preprocess(self, nb, resources):
        course = Course.find(Path.cwd())
        lesson = resources["nbgrader"]["assignment"]
        limits = DEFAULT_LIMITS.with_overrides(
            cell_timeout=self.timeout,
            notebook_timeout=self.notebook_timeout,
            memory_mb=self.memory_mb,
        )
        restored = notebooks.restore_cells(nb, course.source_notebook(lesson))
        outcome, verdicts = judge(course, lesson, restored.notebook, limits)
        for note in restored.tampering + outcome.incidents:
            self.log.warning("%s: %s", resources["nbgrader"].get("student"), note)
        apply_verdicts(outcome.notebook, verdicts)
        return outcome.notebook, resources
