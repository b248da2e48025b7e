"""The one call a hidden grade cell makes.

Every grade cell of a source notebook reads, between nbgrader's hidden-test markers::

    from course_lib.hidden import hidden_test; hidden_test("01_regression", "architecture")

so the released notebook and the feedback have nothing to reveal. What the call does:

* under ``course grade``/``nbgrader autograde`` (``COURSE_GRADING=1`` in the confined
  kernel) nothing: the verdict is computed afterwards, outside the kernel, and replaces
  this cell's output;
* anywhere else (an instructor running the source notebook in Jupyter) it hands in the
  current namespace, with the same evidence ``course grade`` gives the graders (the code
  each answer cell ran with), and runs that one grader in a fresh process, raising on
  failure.
"""

from __future__ import annotations

import os


class HiddenTestFailed(AssertionError):
    """A hidden test failed when run from inside a notebook."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows: the grader's message alone, no traceback."""
        return str(self).splitlines()


def hidden_test(lesson: str, test_id: str) -> None:
    """Grade ``test_id`` of ``lesson`` (see the module docstring for where)."""
    if os.environ.get("COURSE_GRADING") == "1":
        print("graded outside the notebook")
        return
    import __main__
    from course_lib import session

    try:
        from course_lib.grader.selfgrade import judge_namespace
    except ImportError:  # the student package: no grader to run
        raise HiddenTestFailed(
            f"✘ {test_id}: hidden tests run only in the instructor's course folder"
        ) from None

    namespace = vars(__main__)
    notebook = namespace.get("__session__")
    verdict = judge_namespace(
        lesson,
        test_id,
        namespace,
        executed=session.executed_cells(),
        notebook_path=notebook if isinstance(notebook, str) else None,
    )
    if not verdict.passed:
        raise HiddenTestFailed(f"✘ {test_id}: {verdict.message}")
    print(f"✔ {test_id}: {verdict.message}")
