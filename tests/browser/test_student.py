"""A student in JupyterLab: the self-check teaches, Validate tells the truth."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import screenshot
from .jupyterlab import NotebookPage, solutions

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser-student")]

LESSON = "01_regression"
WRONG_OUTPUT_LAYER = """keras.backend.clear_session()
keras.utils.set_random_seed(42)
model = keras.Sequential([
    keras.Input(shape=(n_features,)),
    layers.Dense(1, activation="relu"),
])
model.summary()"""


def validate(notebook: NotebookPage):
    """Click Validate; return the results dialog once it shows its verdict."""
    notebook.page.get_by_role("button", name="Validate").click()
    dialog = notebook.page.locator(".jp-Dialog").filter(has_text="Validation Results")
    expect(dialog).to_contain_text(re.compile("Success|failed"), timeout=600_000)
    return dialog


def test_wrong_output_layer_then_validate_then_correct(page, lab, course_copy):
    """The issue's student: a wrong output layer is caught by the self-check (the teaching
    message, no traceback) and by Validate; the right answers pass Validate."""
    notebook = NotebookPage(page, lab, f"release/{LESSON}/{LESSON}.ipynb").open()
    page.wait_for_timeout(2_000)  # the kernel has filled in its metadata by now
    assert not notebook.is_dirty(), "opening the notebook marked it modified"
    setup = notebook.run("setup")
    expect(setup.locator(".jp-OutputArea")).to_contain_text("Keras 3.")
    expect(setup.locator('[data-mime-type="application/vnd.jupyter.stderr"]')).to_have_count(0)
    notebook.run("load")

    answers = solutions(course_copy, LESSON)
    for grade_id, code in answers.items():
        notebook.write(grade_id, WRONG_OUTPUT_LAYER if grade_id == "part_b_answer" else code)
    notebook.run("part_b_answer")
    notebook.run("part_b_check")
    notebook.show("part_b_check")
    message = notebook.output_text("part_b_check")
    shot = screenshot(page, "student-1-self-check")
    assert message.splitlines()[0] == "output layer: wrong activation", (message, shot)
    assert re.search(r"expected:\s+Dense\(units=1, activation=\"linear\"\)", message)
    assert re.search(r"found:\s+Dense\(units=1, activation=\"relu\"\)", message)
    assert re.search(r"hint:\s+\S", message)
    assert "Traceback" not in message and "course_lib" not in message, shot

    dialog = validate(notebook)  # Validate saves the notebook first
    expect(dialog.get_by_text("The following cell failed:")).to_have_count(1)
    expect(dialog).to_contain_text("output layer: wrong activation")
    screenshot(page, "student-2-validate-fails")
    dialog.get_by_role("button").last.click()

    notebook.write("part_b_answer", answers["part_b_answer"])
    dialog = validate(notebook)
    expect(dialog).to_contain_text("Success! Your notebook passes all the tests.")
    screenshot(page, "student-3-validate-passes")
