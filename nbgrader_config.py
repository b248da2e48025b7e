"""nbgrader configuration: this repository is the course folder.

`nbgrader generate_assignment/autograde/generate_feedback/export` work as usual from here.
Autograding runs through course_lib's GradedExecute: notebooks execute in a confined
kernel and the hidden graders judge them from outside the kernel (see README).
"""

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

from course_lib.nbgrader_hooks import GradedExecute
from course_lib.settings import COURSE_ID, DEFAULT_LIMITS

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = COURSE_ID
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".course"]

# Keras cells train for minutes, not nbgrader's default 30 s.
c.Execute.timeout = DEFAULT_LIMITS.cell_timeout
c.GradedExecute.notebook_timeout = DEFAULT_LIMITS.notebook_timeout
c.GradedExecute.memory_mb = DEFAULT_LIMITS.memory_mb

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
