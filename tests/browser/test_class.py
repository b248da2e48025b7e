"""After `course grade --all`: formgrader lists the scores, the pages read well in a browser."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from course_lib.admin.release import venv_env

from ..conftest import CANNED, copy_course
from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser-class")]

LESSON = "01_regression"
CLASS = {"ada": "correct", "bo": "wrong_activation"}


def course_command(root, *args):
    done = subprocess.run(
        [sys.executable, "-m", "course_lib.cli", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env=venv_env(),
        timeout=1200,
    )
    assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr[-2000:]
    return done


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory):
    """A class of two graded by `course grade --all`, with feedback and the class report."""
    course = copy_course(tmp_path_factory.mktemp("class"))
    for student, variant in CLASS.items():
        folder = course.root / "submitted" / student / LESSON
        folder.mkdir(parents=True)
        shutil.copy(CANNED / LESSON / f"{variant}.ipynb", folder / f"{LESSON}.ipynb")
    course_command(course.root, "release", LESSON)
    course_command(course.root, "grade", LESSON, "--all", "--workers", "2")
    course_command(course.root, "feedback", LESSON)
    course_command(course.root, "report", LESSON)
    return course


def test_formgrader_lists_both_scores(page, lab):
    page.goto(lab.address("lab"))  # logs in (a cookie for formgrader's own requests)
    page.goto(f"{lab.url}/formgrader/gradebook/{LESSON}/{LESSON}")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2, timeout=60_000)
    page.get_by_role("button", name="Show All Names").click()
    expect(rows.filter(has=page.get_by_text("ada", exact=True))).to_contain_text("10 / 10")
    expect(rows.filter(has=page.get_by_text("bo", exact=True))).to_contain_text("5 / 10")
    expect(page.get_by_text("ada", exact=True)).to_be_visible()
    screenshot(page, "formgrader-submissions")


def _no_network(page) -> list[str]:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    return requests


def test_feedback_page_reads_well_from_a_file(page, course_copy):
    requests = _no_network(page)
    path = course_copy.root / "feedback" / "bo" / LESSON / f"{LESSON}.html"
    page.goto(path.as_uri())
    expect(page.locator("h1").first).to_have_text(f"{LESSON}: your feedback")
    expect(page.get_by_role("heading", name=re.compile("Lesson 01"))).to_be_visible()
    expect(page.locator("strong", has_text="Score: 5 / 10")).to_be_visible()
    expect(page.locator("#test-architecture")).to_contain_text("output layer: wrong activation")
    expect(page.locator("img").first).to_be_visible()  # the learning curves
    text = page.locator("body").inner_text()
    assert "hidden_test" not in text and "HIDDEN TESTS" not in text and "**" not in text
    assert [url for url in requests if not url.startswith(("file:", "data:"))] == []
    screenshot(page, "feedback-page")
    page.locator("#test-architecture").scroll_into_view_if_needed()
    screenshot(page, "feedback-page-test")


def test_class_report_reads_well_from_a_file(page, course_copy):
    requests = _no_network(page)
    page.goto((course_copy.root / "reports" / f"{LESSON}.html").as_uri())
    rows = page.locator("table.students tr")
    expect(rows.filter(has_text="ada")).to_contain_text("10 / 10")
    expect(rows.filter(has_text="bo")).to_contain_text("architecture: output layer: wrong")
    expect(page.locator("img")).to_have_count(3)
    assert [url for url in requests if not url.startswith(("file:", "data:"))] == []
    screenshot(page, "class-report", full_page=True)
