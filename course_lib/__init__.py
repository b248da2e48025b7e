"""Helpers for the Keras course: data, plots, model inspection, checks and the `course` CLI.

This package ships to students. It contains no grader and no solution: the hidden
graders live in the course folder's ``autograder/``, which is never released.

Imported in a Jupyter kernel, it first sets up the notebook session
(:mod:`course_lib.session`): TensorFlow's start-up log kept out of the notebook, and
executed cells recorded for in-notebook hidden tests.
"""

from course_lib import session as _session

__version__ = "0.1.0"

_session.setup()
