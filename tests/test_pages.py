"""Do the feedback and class-report pages show what they should, and nothing a student could
inject?

Every string from a submission is escaped; images appear only when they decode as PNG or
JPEG; HTML, SVG and script outputs appear as plain text; markdown is sanitised; grade
cells appear only as their verdict; nothing loads from the network.
"""

from __future__ import annotations

import base64
import re

import nbformat
import pytest

from course_lib.classroom import class_report, feedback, pages
from course_lib.grader.report import Status

from .conftest import submission_result

LESSON = "01_regression"
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5E"
    "rkJggg=="
)
SCRIPT = "<script>alert('x')</script>"


def _grade_cell(grade_id: str, points: float, outputs: list) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(
        "### BEGIN HIDDEN TESTS\n"
        f'from course_lib.hidden import hidden_test; hidden_test("{LESSON}", "{grade_id}")\n'
        "### END HIDDEN TESTS",
        outputs=outputs,
    )
    cell.metadata["nbgrader"] = {
        "grade": True,
        "solution": False,
        "grade_id": grade_id,
        "points": points,
    }
    return cell


def _page(cells_, result=None, nbgrader=None) -> str:
    notebook = nbformat.v4.new_notebook(cells=cells_)
    resources = {"nbgrader": {"assignment": LESSON, "student": "ada", **(nbgrader or {})}}
    if result is not None:
        resources["course_result"] = result
    page, _ = feedback.FeedbackExporter().from_notebook_node(notebook, resources)
    return page


def test_feedback_shows_markdown_code_outputs_plots_and_verdicts_but_never_test_code():
    answer = nbformat.v4.new_code_cell(
        "model.fit(x)\n### BEGIN HIDDEN TESTS\nassert secret\n### END HIDDEN TESTS\n",
        outputs=[
            nbformat.v4.new_output("stream", text="W0000 00:00:1 1 x.cc:1] absl noise\nloss 0.5\n"),
            nbformat.v4.new_output("display_data", data={"image/png": PNG}),
        ],
    )
    failed = nbformat.v4.new_output(
        "error",
        ename="GradingFailure",
        evalue="output layer: wrong activation",
        traceback=["output layer: wrong activation", "    hint:     leave it linear"],
    )
    page = _page(
        [
            nbformat.v4.new_markdown_cell("# Part A\n\n**bold** and `code`"),
            answer,
            _grade_cell("architecture", 2, [failed]),
            _grade_cell("quality", 3, [nbformat.v4.new_output("stream", text="✔ passed\n")]),
        ],
        result=submission_result(passed=False),
    )
    assert "hidden_test" not in page and "secret" not in page and "HIDDEN" not in page
    assert "absl" not in page and "loss 0.5" in page and "model.fit(x)" in page
    assert "<h1>Part A</h1>" in page and "<strong>bold</strong>" in page
    assert f'src="data:image/png;base64,{PNG}"' in page
    assert "Score: 3 / 5" in page
    assert "✘ output layer: wrong activation" in page and "leave it linear" in page
    assert not re.search(r"<(script|link|iframe)|https?://", page), "nothing from the network"


def test_the_score_is_the_gradebooks_when_nbgrader_gives_one():
    """Manual grades and late penalties in formgrader change the page's score."""
    cell = _grade_cell("quality", 3, [nbformat.v4.new_output("stream", text="✔ passed\n")])
    cell.metadata.nbgrader["score"] = 1.5
    page = _page([cell], nbgrader={"score": 0.5, "max_score": 3, "late_penalty": 1})
    assert "Score: 0.5 / 3" in page and "late submission: −1" in page
    assert "1.5 / 3" in page


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        ({"image/png": PNG}, "data:image/png;base64,"),
        ({"image/png": base64.b64encode(b"GIF89a" + b"0" * 20).decode()}, None),
        ({"image/png": 'x" onerror="alert(1)'}, None),
        ({"image/jpeg": base64.b64encode(b"<svg onload=alert(1)>").decode()}, None),
        ({"image/svg+xml": "<svg onload=alert(1)>", "text/plain": "<Figure>"}, "&lt;Figure&gt;"),
        ({"text/html": SCRIPT, "text/plain": "a table"}, "a table"),
        ({"application/javascript": "alert(1)"}, None),
    ],
)
def test_outputs_are_shown_only_in_safe_forms(data, shown):
    cell = nbformat.v4.new_code_cell(
        "x", outputs=[nbformat.v4.new_output("display_data", data=data)]
    )
    page = _page([cell])
    assert "onerror" not in page and "onload" not in page and "<script" not in page
    assert "alert(1)" not in page.split('<pre class="input">x</pre>')[1]
    if shown is None:
        assert "<img" not in page
    else:
        assert shown in page


def test_student_text_is_escaped_everywhere():
    evil = f"{SCRIPT}\x1b[31m\x07<img src=x onerror=alert(1)>"
    cell = nbformat.v4.new_code_cell(
        evil,
        outputs=[
            nbformat.v4.new_output("stream", text=evil),
            nbformat.v4.new_output("error", ename=evil, evalue=evil, traceback=[evil]),
        ],
    )
    markdown = nbformat.v4.new_markdown_cell(f"{SCRIPT} [link](javascript:alert(1))")
    result = submission_result(passed=False, message=evil)
    result.report.tampering.append(evil)
    page = _page([markdown, cell], result=result)
    page += feedback.page_without_notebook(result)
    assert "<script" not in page and "<img src=x" not in page and 'href="javascript' not in page
    assert "\x1b" not in page and "\x07" not in page
    assert "&lt;script&gt;" in page


def test_a_damaged_submission_gets_a_page_saying_why():
    result = submission_result(
        "bo", status=Status.UNGRADABLE, passed=False, message="not graded: not JSON"
    )
    page = feedback.page_without_notebook(result)
    assert "ungradable" in page and "not graded: not JSON" in page and "Score: 0 / 2" in page


def test_class_report_has_a_row_per_student_and_flags_every_status_but_graded():
    results = {
        "ada": submission_result("ada"),
        **{
            status.value: submission_result(status.value, status=status, passed=False)
            for status in Status
            if status is not Status.GRADED
        },
    }
    page = class_report.render(LESSON, results)
    assert page.count("data:image/png;base64,") == 3
    rows = re.findall(r"<tr( class=\"flag\")?>\s*<td>([^<]*)</td>", page)
    assert sorted(student for _, student in rows) == sorted(results)
    assert {student for flag, student in rows if flag} == set(results) - {"ada"}
    assert "quality: test error: too high" in page
    look = page.split("Needs a human look")[1].split("<h2>")[0]
    assert "<strong>ada</strong>" not in look
    assert all(f"<strong>{status}</strong>" in look for status in set(results) - {"ada"})


@pytest.mark.parametrize("student", ["$x^$", r"$\frac{$", SCRIPT, "a\x1b[31mb\x07", "é" * 80])
def test_class_report_takes_any_student_id(student):
    """A student id is drawn as plain text in the figures (an id like `$x^$` crashed them)."""
    page = class_report.render(LESSON, {student: submission_result(student, passed=False)})
    assert "<script" not in page and "\x1b" not in page
    assert page.count("data:image/png;base64,") == 3


def test_images_are_checked_before_they_reach_a_page():
    assert pages.image_data("image/png", PNG) == PNG
    assert pages.image_data("image/png", [PNG[:20], "\n", PNG[20:]]) == PNG
    assert pages.image_data("image/gif", PNG) is None
    assert pages.image_data("image/png", "not base64!") is None
