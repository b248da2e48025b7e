"""Helpers for the Keras course: data, plots, model inspection, checks and the `course` CLI.

This package ships to students. It contains no grader and no solution: the hidden
graders live in the course folder's ``autograder/``, which is never released.
"""

__version__ = "0.1.0"
