"""nbgrader configuration: this repository is the course folder.

`nbgrader generate_assignment/autograde/generate_feedback/export` work as usual from here.
Autograding runs through course_lib's GradedExecute: notebooks execute in a confined
kernel and the hidden graders judge them from outside the kernel (see README).

The grading limits below are read by `course grade` too (course_lib.grader.settings);
its command-line flags (--cell-timeout, --timeout, --memory-mb, --workers) override them.
"""

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

from course_lib.grader.nbgrader_execute import GradedExecute
from course_lib.grader.settings import COURSE_ID

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = COURSE_ID
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".course"]

# --- grading limits (nbgrader autograde and `course grade` alike) ---------------------------
c.Execute.timeout = 600  # seconds per cell: Keras cells train for minutes, not nbgrader's 30 s
c.GradedExecute.notebook_timeout = 1800  # seconds for the whole notebook
c.GradedExecute.memory_mb = 6144  # resident memory cap of the kernel, enforced from outside
c.GradedExecute.verdict_timeout = 600  # seconds the hidden graders may take on one hand-in
c.GradedExecute.max_output_chars = 100_000  # text output kept per cell (printed or displayed)
c.GradedExecute.max_notebook_mb = 20  # `course grade`: larger submissions are not even read
c.GradedExecute.max_cells = 2_000  # `course grade`: notebooks with more cells are not graded
c.ClassGrading.workers = 0  # `course grade --all`: 0 = one per core, memory allowing

# TensorFlow writes oneDNN/absl lines to stderr on import; they must never cost points.
c.IgnorePattern.pattern = (
    r"oneDNN|onednn|cpu_feature_guard|rebuild TensorFlow|absl::|TF_ENABLE_ONEDNN_OPTS"
    r"|computation_placer|cuda|E0000|I0000|W0000"
)

c.Autograde.autograde_preprocessors = [
    GradedExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Feedback shows the verdict of each grade cell, never its hidden-test line.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
