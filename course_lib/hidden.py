"""The one call a hidden grade cell makes.

Every grade cell of a source notebook reads, between nbgrader's hidden-test markers::

    from course_lib.hidden import hidden_test; hidden_test("01_regression", "architecture")

so the released notebook and the feedback have nothing to reveal. What the call does:

* under ``course grade``/``nbgrader autograde`` (``COURSE_GRADING=1`` in the confined
  kernel) nothing: the verdict is computed afterwards, outside the kernel, and replaces
  this cell's output;
* anywhere else (an instructor running the source notebook in Jupyter) it hands in the
  current namespace and runs that one grader in a fresh process, raising on failure.
"""

from __future__ import annotations

import os


class HiddenTestFailed(AssertionError):
    """A hidden test failed when run from inside a notebook."""


def hidden_test(lesson: str, test_id: str) -> None:
    """Grade ``test_id`` of ``lesson`` (see the module docstring for where)."""
    if os.environ.get("COURSE_GRADING") == "1":
        print("graded outside the notebook")
        return
    import __main__
    from course_lib.grader.selfgrade import judge_namespace

    verdict = judge_namespace(lesson, test_id, vars(__main__))
    if not verdict.passed:
        raise HiddenTestFailed(verdict.message)
    print(f"✔ {test_id}: {verdict.message}")
