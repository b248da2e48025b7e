"""An instructor in JupyterLab: the source notebook runs green, hidden tests included."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from course_lib.grader import cells

from .conftest import screenshot
from .jupyterlab import NotebookPage

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.xdist_group("browser-instructor"),
]

LESSON = "01_regression"


def test_run_all_on_the_source_passes_every_hidden_test(page, lab, course_copy):
    notebook = NotebookPage(page, lab, f"source/{LESSON}/{LESSON}.ipynb").open()
    page.wait_for_timeout(2_000)
    assert not notebook.is_dirty(), "opening the source notebook marked it modified"
    notebook.run_all()
    test_ids = [t.id for t in course_copy.tests(LESSON)]
    for test_id in test_ids:
        output = notebook.cell(test_id).locator(".jp-OutputArea")
        expect(output).to_contain_text(f"✔ {test_id}: passed")
    errors = notebook.panel.locator('[data-mime-type="application/vnd.jupyter.stderr"]')
    expect(errors).to_have_count(0)
    notebook.show("architecture")
    screenshot(page, "instructor-1-hidden-test-passed")
    notebook.show(test_ids[-1])
    screenshot(page, "instructor-2-run-all")
    assert [c for c in course_copy.source_notebook(LESSON).cells if cells.is_test(c)]
