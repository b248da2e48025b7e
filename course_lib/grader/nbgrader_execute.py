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

from course_lib.grader import submission
from course_lib.grader.course import Course
from course_lib.grader.grade import apply_verdicts, judge
from course_lib.grader.settings import DEFAULT_LIMITS


class GradedExecute(Execute):
    """Execute confined and judge outside the kernel (replaces nbgrader's Execute)."""

    notebook_timeout = Integer(
        DEFAULT_LIMITS.notebook_timeout, help="Seconds the whole notebook may run."
    ).tag(config=True)
    memory_mb = Integer(
        DEFAULT_LIMITS.memory_mb, help="Resident memory cap of the kernel, enforced from outside."
    ).tag(config=True)
    verdict_timeout = Integer(
        DEFAULT_LIMITS.verdict_timeout, help="Seconds the hidden graders may take on one hand-in."
    ).tag(config=True)
    max_output_chars = Integer(
        DEFAULT_LIMITS.max_output_chars, help="Text output kept per cell; the rest is cut."
    ).tag(config=True)
    max_notebook_mb = Integer(
        DEFAULT_LIMITS.max_notebook_mb,
        help="`course grade`: submitted notebooks larger than this (MB) are not read.",
    ).tag(config=True)
    max_cells = Integer(
        DEFAULT_LIMITS.max_cells,
        help="`course grade`: submitted notebooks with more cells than this are not graded.",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        course = Course.find(Path.cwd())
        lesson = resources["nbgrader"]["assignment"]
        limits = DEFAULT_LIMITS.with_overrides(
            cell_timeout=self.timeout,
            notebook_timeout=self.notebook_timeout,
            memory_mb=self.memory_mb,
            verdict_timeout=self.verdict_timeout,
            max_output_chars=self.max_output_chars,
        )
        restored = submission.restore_cells(nb, course.source_notebook(lesson))
        outcome, verdicts = judge(course, lesson, restored.notebook, limits)
        for note in restored.tampering + outcome.incidents:
            self.log.warning("%s: %s", resources["nbgrader"].get("student"), note)
        apply_verdicts(outcome.notebook, verdicts)
        return outcome.notebook, resources
