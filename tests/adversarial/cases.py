"""What grading must make of each adversarial or broken submission in this folder.

Per case: the lesson, the file, the grading limits, every test that must FAIL with the
exact first line of its message (every other test must pass with full points), and where
relevant the prefix of the ``ungradable`` reason, substrings of the tampering notes, the
status, and text the graded notebook must (or must never) contain.
A lying or tampering notebook must score exactly what the same honest (wrong) work would.
:func:`iter_cases` yields them all, for ``course grade`` and the batch path alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.grader.settings import DEFAULT_LIMITS, Limits

HERE = Path(__file__).resolve().parent

FAULT_LIMITS = {"cell_timeout": 120, "notebook_timeout": 600, "memory_mb": 2048}
"""Short enough that a fault costs little, long enough for a TensorFlow import on a busy CI."""

REGRESSION_TESTS = ["preprocessing", "architecture", "parameter_count", "compile_settings"]

NOT_IMPLEMENTED = {
    "preprocessing": "not implemented yet: `X_train_scaled`, `X_test_scaled`, "
    "`y_train_scaled`, `y_mean` and `y_std` are not defined",
    "architecture": "not implemented yet: `model` is not defined",
    "parameter_count": "not implemented yet: `n_params` and `model` are not defined",
    "compile_settings": "not implemented yet: `model` is not defined",
    "quality": "not implemented yet: `model` is not defined",
}
"""Lesson 01 left untouched: what a submission without answers gets."""

TOO_HIGH = "test mean absolute error: too high"
SHORT = f"2 problems: {TOO_HIGH}; training: wrong number of epochs"
"""A wrong model trained for 2 epochs (``SHORT_TRAINING``): both are named."""
ONLY_N_PARAMS = "2 problems: `n_params`: wrong value; not implemented yet: `model` is not defined"
WRONG_ACTIVATION = "output layer: wrong activation"
SECRET = "hunter2-instructor-secret"
"""Set in the grading process's environment (``COURSE_TEST_SECRET``) by the tests."""
SCRIPT_MARKERS = ("onerror", "onload", "<script", "<iframe", "srcdoc", "javascript", "eval(atob")
"""What an output or cell that runs a script in a browser needs: no graded notebook may give a
viewer any of these to render (its rich outputs and its markdown outside plain-text blocks)."""
NOT_RELOADED = "`model` could not be reloaded for grading"


def _model_not_defined(reason: str) -> dict[str, str]:
    message = f"`model` is not defined: {reason}"
    return {t: message for t in ["architecture", "parameter_count", "compile_settings"]} | {
        "quality": message
    }


@dataclass(frozen=True)
class Case:
    """One corpus submission and what grading must make of it."""

    name: str
    lesson: str
    what: str
    failing: dict[str, str] = field(default_factory=dict)
    ungradable: str | None = None
    tampering: tuple[str, ...] = ()
    options: dict = field(default_factory=lambda: dict(FAULT_LIMITS))
    status: str = "graded"
    """The status the grading ends with (``ungradable`` when ``ungradable`` is set)."""
    shown: tuple[str, ...] = ()
    """Text the graded notebook must show (what the attack itself printed)."""
    never_shown: tuple[str, ...] = ()
    """Text the graded notebook's outputs must never contain (the instructor's secrets)."""

    @property
    def path(self) -> Path:
        return HERE / f"{self.name}.ipynb"

    @property
    def limits(self) -> Limits:
        return DEFAULT_LIMITS.with_overrides(**self.options)


CASES = [
    # 1. Keras methods patched to lie, on a wrong model.
    Case(
        "lying_keras_methods",
        "01_regression",
        "an MLP trained 2 epochs, with Model.evaluate/predict/count_params patched to look "
        "perfect and n_params = model.count_params()",
        failing={
            "architecture": "unexpected layer: Dense",
            "parameter_count": "2 problems: `n_params`: counted by Keras, not by hand; "
            "parameter count: wrong",
            "quality": f"4 problems: {TOO_HIGH}; training: wrong number of epochs; `y_pred`: not "
            "your model's predictions of the test rows; `test_mse`: not your model's error on "
            "the scaled test data",
        },
    ),
    Case(
        "lying_keras_methods_mnist",
        "04_mnist_ann",
        "no softmax, 1 epoch on 2,000 images, Model.evaluate/predict/count_params patched to "
        "look perfect",
        failing={
            "architecture": WRONG_ACTIVATION,
            "training": "3 problems: training: epoch budget too small for early stopping; "
            "training: not the rows and batch size of the fit call given; training: did not "
            "stop early",
            "test_accuracy": "test accuracy: too low",
        },
        options=FAULT_LIMITS | {"memory_mb": 4096},
    ),
    # 2. A fake grader planted by the notebook.
    Case(
        "fake_autograder",
        "01_regression",
        "untouched answers, an always-passing `autograder` and `course_lib.grader.verdict` "
        "planted in sys.modules, on sys.path and as files (with a conftest.py)",
        failing=NOT_IMPLEMENTED,
    ),
    # 3. Grade cells, locked cells and nbgrader metadata tampered with.
    Case(
        "grade_cells_edited_deleted",
        "01_regression",
        "untouched answers; grade cells `quality` and `architecture` edited to pass, "
        "`preprocessing` and `compile_settings` deleted",
        failing=NOT_IMPLEMENTED,
        tampering=(
            "grade cell `quality` was edited; the original was used",
            "grade cell `architecture` was edited; the original was used",
            "grade cell `preprocessing` was deleted; the original was restored",
            "grade cell `compile_settings` was deleted; the original was restored",
        ),
    ),
    Case(
        "grade_cells_duplicated_moved",
        "01_regression",
        "untouched answers; grade cell `quality` duplicated (the copy prints passed), "
        "`architecture` moved to the top",
        failing=NOT_IMPLEMENTED,
        tampering=(
            "cell `quality` appears more than once; only one copy counts",
            "cells were moved (`architecture`",
        ),
    ),
    Case(
        "metadata_and_locked_cells",
        "01_regression",
        "the solution (trained fast) with `quality` worth 100 points, `architecture` no longer a "
        "grade cell, an answer cell made a 50-point grade cell, the locked `load` cell "
        "training on the test set, the intro edited",
        tampering=(
            "nbgrader metadata of `quality` was changed (points 3 → 100)",
            "nbgrader metadata of `architecture` was changed (grade True → False",
            "nbgrader metadata of `part_c_answer` was changed (grade False → True",
            "read-only cell `load` was edited; the original was used",
            "read-only cell `intro` was edited; the original was used",
        ),
    ),
    # 4. IPython, sys.exit/os._exit, exception handling and builtins patched.
    Case(
        "machinery_patched",
        "01_regression",
        "relu output, 2 epochs; tracebacks hidden, every exception swallowed, print and "
        "__import__ patched to fake the checks; a swallowed NameError for n_params",
        failing={
            "architecture": WRONG_ACTIVATION,
            "parameter_count": "`n_params` is not defined",
            "quality": SHORT,
        },
    ),
    Case(
        "shadowed_builtins",
        "01_regression",
        "the solution (trained fast) with variables named list, type, str, dict, open, max",
    ),
    Case(
        "exit_calls",
        "01_regression",
        "the solution, 2 epochs; sys.exit() after part C and os._exit(0) after compile",
        failing={
            "compile_settings": "compile settings: the model was never compiled",
            "quality": f"2 problems: {TOO_HIGH}; `history` is not defined: the cell starting "
            "`n_params = n_features * 1 + 1` raised SystemExit: done with part C",
        },
        status="crashed",
    ),
    Case(
        "killed_at_export",
        "01_regression",
        "the solution, 2 epochs; an IPython hook calls os._exit(0) when the grader's export "
        "cell starts",
        failing={
            test: f"{names} not defined: the kernel died (exit status 0) while its answers "
            "were being collected"
            for test, names in [
                (
                    "preprocessing",
                    "`X_train_scaled`, `X_test_scaled`, `y_train_scaled`, `y_mean` and `y_std` are",
                ),
                ("architecture", "`model` is"),
                ("parameter_count", "`n_params` and `model` are"),
                ("compile_settings", "`model` is"),
                ("quality", "`model` is"),
            ]
        },
        status="crashed",
    ),
    Case(
        "kill_the_grader",
        "01_regression",
        "the solution, 2 epochs; SIGKILL sent to the kernel's watcher and to the grading process",
        failing={"quality": SHORT},
    ),
    # 5. The grader's files and result records.
    Case(
        "grader_files",
        "01_regression",
        "untouched answers but part C: copies n_params from the source notebook or grader if "
        "it can read them, and writes forged results into the course folder and /tmp",
        failing=NOT_IMPLEMENTED | {"parameter_count": ONLY_N_PARAMS},
    ),
    Case(
        "forged_handin",
        "01_regression",
        "relu output, 2 epochs; after the export cell, forged verdicts/manifest/conftest in the "
        "hand-in, and a double-forked daemon that keeps forging",
        failing={"architecture": WRONG_ACTIVATION, "quality": SHORT},
    ),
    # 6. Faults.
    Case(
        "syntax_error",
        "01_regression",
        "a syntax error in the model cell",
        failing=_model_not_defined(
            "the cell starting `keras.backend.clear_session()` raised SyntaxError: closing "
            "parenthesis ')' does not match opening parenthesis '[' on line 3 "
            "(1508464069.py, line 6)"
        ),
    ),
    Case(
        "name_error",
        "01_regression",
        "a NameError in part A: y_train_scaled is never defined",
        failing={
            "preprocessing": "`y_train_scaled` is not defined: the cell starting "
            "`feature_mean = X_train.mean(axis=0)` raised NameError: name 'y_sd' is not defined",
            "quality": f"2 problems: {TOO_HIGH}; `history` is not defined: the cell starting "
            "`feature_mean = X_train.mean(axis=0)` raised NameError: name 'y_sd' is not defined",
        },
    ),
    Case(
        "loop_ignoring_interrupt",
        "01_regression",
        "the solution, 2 epochs; part C ignores SIGINT and loops forever",
        failing={
            "parameter_count": "`n_params` is not defined: the cell starting `n_params = "
            "n_features * 1 + 1` raised CellTimeoutError: the cell ran longer than 20 s and was "
            "stopped",
            "quality": SHORT,
        },
        options=FAULT_LIMITS | {"cell_timeout": 20},
        status="timed out",
    ),
    Case(
        "memory_hog",
        "01_regression",
        "the solution, 2 epochs; part C allocates 64 GiB",
        failing={
            "parameter_count": "`n_params` is not defined: the cell starting `n_params = "
            "n_features * 1 + 1` raised KernelDied: the kernel used more than 2048 MB of "
            "memory and was stopped",
            "quality": SHORT,
        },
        status="memory",
    ),
    Case(
        "segfault",
        "01_regression",
        "the solution, 2 epochs; part C crashes the interpreter (SIGSEGV)",
        failing={
            "parameter_count": "`n_params` is not defined: the cell starting `n_params = "
            "n_features * 1 + 1` raised KernelDied: the kernel died (exit status -11)",
            "quality": SHORT,
        },
        status="crashed",
    ),
    Case(
        "output_flood",
        "01_regression",
        "part A prints 50 MB before answering correctly; the rest untouched",
        failing={k: v for k, v in NOT_IMPLEMENTED.items() if k != "preprocessing"},
    ),
    Case(
        "empty",
        "01_regression",
        "an empty file",
        ungradable="empty.ipynb is an empty file, not a notebook",
    ),
    Case(
        "not_utf8",
        "01_regression",
        "Latin-1 bytes",
        ungradable="not_utf8.ipynb is not UTF-8 text",
    ),
    Case(
        "bad_json",
        "01_regression",
        "a truncated file",
        ungradable="bad_json.ipynb is not valid JSON",
    ),
    Case(
        "nbformat3",
        "01_regression",
        "an IPython 2 notebook (nbformat 3)",
        ungradable="nbformat3.ipynb is in notebook format 3",
    ),
    Case(
        "other_lesson",
        "01_regression",
        "the lesson 04 notebook handed in for lesson 01",
        ungradable="this notebook belongs to lesson 04_mnist_ann, not 01_regression",
    ),
    # 7. Network.
    Case(
        "network",
        "01_regression",
        "untouched answers but part C: takes n_params from a TCP server it starts itself, "
        "then from the internet; falls back to a wrong guess",
        failing=NOT_IMPLEMENTED | {"parameter_count": ONLY_N_PARAMS},
    ),
]


CASES += [
    # 8. Containment, part 2: the grader, the instructor's terminal, whoever views the results.
    Case(
        "lambda_writes_files",
        "01_regression",
        "the solution; after the export, the saved model is replaced by one whose Lambda layer "
        "calls keras.visualization.plot_image_gallery(path=...) through a link planted in the "
        "hand-in, pointing into autograder/",
        failing={
            "architecture": NOT_RELOADED,
            "parameter_count": NOT_RELOADED,
            "compile_settings": NOT_RELOADED,
            "quality": NOT_RELOADED,
        },
    ),
    Case(
        "tty_injection",
        "01_regression",
        "untouched answers but part C: finds the grading command's terminal through /proc, "
        "writes to it and types a shell command into it with TIOCSTI; tries /dev/tty, "
        "/dev/console, /dev/ptmx and its own standard streams",
        failing=NOT_IMPLEMENTED | {"parameter_count": NOT_IMPLEMENTED["architecture"]},
        shown=(
            "cannot open /dev/tty",
            "cannot open /dev/console",
            "cannot open /dev/ptmx",
            "cannot type into fd 0",
            "own session: True",
        ),
        never_shown=("typed into", "opened /dev"),
    ),
    Case(
        "terminal_escapes",
        "01_regression",
        "the solution, but part B raises an error whose message erases lines and prints a fake "
        "PASS, and part C (escape codes in its first line) crashes the kernel",
        failing={
            test: f"{names} not defined: the cell starting `raise ValueError("
            '"\\x1b[2K\\x1b[1A\\x1b[2K\\r  PASS  architectur` raised ValueError: '
            # the error's first line only: it ends at the carriage return before the fake PASS
            "\x1b[2K\x1b[1A\x1b[2K"
            for test, names in [
                ("architecture", "`model` is"),
                ("parameter_count", "`n_params` and `model` are"),
                ("compile_settings", "`model` is"),
                ("quality", "`model` is"),
            ]
        },
        status="crashed",
    ),
    Case(
        "environment_and_display_flood",
        "01_regression",
        "untouched answers but part C: prints the kernel's environment, then displays 20 MB as "
        "HTML, 20 MB as text and JSON, and 20 MB as the cell's result",
        failing=NOT_IMPLEMENTED
        | {
            "parameter_count": "2 problems: `n_params`: wrong value; not implemented yet: "
            "`model` is not defined"
        },
        shown=("environment:", "more characters not kept"),
        never_shown=(SECRET, "x" * 200_000),
    ),
    Case(
        "planted_course_lib",
        "01_regression",
        "untouched answers but part C: leaves a course_lib/grader/sandbox.py of its own in the "
        "working folder (writing into autograder/ and /tmp when imported), then kills the "
        "kernel so that a new one is started",
        failing=NOT_IMPLEMENTED,
        status="crashed",
    ),
    Case(
        "outputs_that_run_scripts",
        "01_regression",
        "the solution (trained fast) whose outputs carry scripts: HTML with onerror, <script>, "
        "SVG with onload, Javascript, markdown, a fake PNG, a widget, an iframe, image metadata; "
        "plus a markdown cell and a raw cell of the student's own with scripts in them",
        shown=("my own extra cell", "```text\\nMy notes <img", "```text\\n<script>"),
    ),
]


def iter_cases(lesson: str | None = None) -> Iterator[Case]:
    """Every corpus case (of ``lesson`` only, if given)."""
    return (case for case in CASES if lesson is None or case.lesson == lesson)
