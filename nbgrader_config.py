"""nbgrader configuration: this repository is the course folder.

`nbgrader generate_assignment/autograde/generate_feedback/export` work as usual from here.
Autograding runs through course_lib's GradedExecute: notebooks execute in a confined
kernel and the hidden graders judge them from outside the kernel (see README).

The grading limits below are read by `course grade` too (course_lib.grader.settings);
its command-line flags (--cell-timeout, --timeout, --memory-mb, --workers) override them.
"""

import os
import sys

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

from course_lib.classroom.feedback import PREPROCESSORS as FEEDBACK_PREPROCESSORS
from course_lib.classroom.feedback import FeedbackExporter
from course_lib.grader.nbgrader_execute import GradedExecute
from course_lib.grader.settings import COURSE_ID

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

COURSE_ROOT = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = COURSE_ID
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".course"]

# nbgrader creates gradebook.db by running `alembic` by name: find it beside this Python
# however JupyterLab or nbgrader was started (an unactivated `.venv/bin/jupyter lab` too).
_scripts = os.path.dirname(sys.executable)
if _scripts not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join([_scripts, os.environ.get("PATH", "")])

# --- students' Validate (the toolbar button and `nbgrader validate`) ------------------------
# The released grade cells are empty (their hidden tests are cut out), so nbgrader's default
# Validate passed any notebook. Validating every cell makes the ungraded self-checks count:
# an untouched answer (NotImplementedError) or a wrong one (the self-check's CheckFailure,
# shown as what/expected/found/hint) fails Validate, a correct notebook passes. The hidden
# graders stay hidden: they run only when the instructor grades.
c.Validator.validate_all = True

# --- nbgrader's exchange on one machine ------------------------------------------------------
# `nbgrader release_assignment` → students fetch and submit → `nbgrader collect`, through a
# folder inside the course. Students' fetched lessons and feedback land in student/. For a
# shared server, point c.Exchange.root here and in every student's nbgrader config at one
# shared folder instead (README, "Running a class"; hub/ does it for a JupyterHub).
c.Exchange.root = os.path.join(COURSE_ROOT, "exchange")
c.Exchange.assignment_dir = os.path.join(COURSE_ROOT, "student")

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

# Feedback: `nbgrader generate_feedback` and `course feedback` write the same page with the
# course's exporter: markdown rendered, the student's code, outputs and plots, each test's
# points and teaching message, grade cells only as their verdict (never their hidden code),
# nothing loaded from a CDN.
c.GenerateFeedback.exporter_class = FeedbackExporter
c.GenerateFeedback.preprocessors = FEEDBACK_PREPROCESSORS
c.GradingNotes.course_root = COURSE_ROOT
