"""Does a student's notebook session show only what a student should read?

TensorFlow's start-up log stays out of the notebook, a failed check shows its teaching
message and nothing else, a lesson writes its files outside the course folder, and an
in-notebook hidden test gets the answer-cell code that actually ran.
"""

from __future__ import annotations

import copy
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from course_lib import data, session
from course_lib.grader import cells
from course_lib.grader.selfgrade import answer_sources

LESSON = "01_regression"

# Measured on TensorFlow 2.21 (tensorflow-cpu): what `import tensorflow` writes to descriptor 2
# at every TF_CPP_MIN_LOG_LEVEL (the cpu_feature_guard pair disappears from level 1 on).
TENSORFLOW_STARTUP = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796143136.134393   28818 port.cc:153] oneDNN custom operations are on. You "
    "may see slightly different numerical results due to floating-point round-off errors.",
    "I0000 00:00:1796143136.302117   28818 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild "
    "TensorFlow with the appropriate compiler flags.",
]


@pytest.mark.parametrize("line", TENSORFLOW_STARTUP)
def test_tensorflow_startup_lines_are_noise(line):
    assert session.is_startup_noise(line)


@pytest.mark.parametrize(
    "line",
    [
        "E0000 00:00:1.0 1 cuda_executor.cc:1] could not open the device",
        "Traceback (most recent call last):",
        "UserWarning: Do not pass an `input_shape` argument to a layer.",
    ],
)
def test_other_stderr_lines_are_kept(line):
    assert not session.is_startup_noise(line)


def test_lesson_files_go_to_a_scratch_folder_outside_the_course(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = data.scratch_dir("04_mnist_ann")
    assert folder == tmp_path / "cache" / "keras-course" / "04_mnist_ann"
    assert folder.is_dir()
    with pytest.raises(ValueError, match="not a lesson name"):
        data.scratch_dir("../elsewhere")


def _answer(notebook, grade_id):
    return next(c for c in notebook.cells if cells.grade_id(c) == grade_id)


def test_a_hidden_test_in_jupyter_gets_the_code_each_answer_cell_ran(course):
    source = course.source_notebook(LESSON)
    cell = _answer(source, "part_b_answer")
    ran = "model = keras.Sequential([keras.Input(shape=(10,)), layers.Dense(1)])"
    answers = answer_sources(source, {cell.id: ran})
    assert answers["part_b_answer"] == ran
    assert answers["part_a_answer"] == cells.source_text(_answer(source, "part_a_answer"))
    assert set(answers) == {cells.grade_id(c) for c in source.cells if cells.is_answer(c)}


def test_without_cell_ids_the_running_notebook_as_saved_is_read(course):
    source = course.source_notebook(LESSON)
    running = copy.deepcopy(source)
    _answer(running, "part_c_answer").source = "n_params = 11"
    assert answer_sources(source, {}, running)["part_c_answer"] == "n_params = 11"
    assert answer_sources(source, {}, None)["part_c_answer"] == cells.source_text(
        _answer(source, "part_c_answer")
    )


@pytest.mark.slow
def test_a_release_notebook_shows_no_startup_log_and_plain_check_messages(course):
    """The setup cell prints no stderr; a wrong answer's self-check shows what, expected,
    found and hint, without a traceback through course_lib."""
    release = nbformat.read(course.release_notebook_path(LESSON), as_version=4)
    wanted = ("setup", "load", "part_b_answer", "part_b_check")
    release.cells = [c for c in release.cells if cells.grade_id(c) in wanted]
    _answer(release, "part_b_answer").source = (
        "model = keras.Sequential([\n"
        "    keras.Input(shape=(n_features,)),\n"
        '    layers.Dense(1, activation="relu"),\n'
        "])"
    )
    NotebookClient(release, timeout=300, allow_errors=True).execute()
    setup, load, answer, check = release.cells
    assert [o.output_type for o in setup.outputs] == ["stream"]
    assert setup.outputs[0].name == "stdout" and setup.outputs[0].text.startswith("Keras 3.")
    assert not [o for o in load.outputs + answer.outputs if o.get("name") == "stderr"]
    (error,) = check.outputs
    assert error.output_type == "error" and error.ename == "CheckFailure"
    assert error.traceback[0] == "output layer: wrong activation"
    assert error.traceback[1].split() == ["expected:", "Dense(units=1,", 'activation="linear")']
    assert error.traceback[-1].strip().startswith("hint:")
    assert not [line for line in error.traceback if "course_lib" in line or "File " in line]


def test_a_hidden_test_without_the_grader_says_where_it_runs(monkeypatch):
    """The student package has no grader: a hidden call there fails with a plain sentence."""
    from course_lib import hidden

    monkeypatch.delenv("COURSE_GRADING", raising=False)
    monkeypatch.setitem(sys.modules, "course_lib.grader.selfgrade", None)  # not installed
    with pytest.raises(hidden.HiddenTestFailed) as failure:
        hidden.hidden_test(LESSON, "quality")
    assert failure.value._render_traceback_() == [
        "✘ quality: hidden tests run only in the instructor's course folder"
    ]
