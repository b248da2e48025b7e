"""A class on the course's JupyterHub (hub/), end to end in the browser.

The instructor releases lesson 01 from formgrader (the hub service), a student logs in,
fetches it from the Assignment List, answers, submits; the instructor collects, grades with
`course grade --all` and `course feedback`, releases the feedback; the student fetches it
and reads the page.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import expect

from ..conftest import ROOT, copy_course
from .conftest import ARTEFACTS, free_port, isolated_env, screenshot, wait_for_http
from .jupyterlab import Lab, NotebookPage, solutions

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser-hub")]

LESSON = "01_regression"
PASSWORD = "keras-course"
PROXY = ROOT / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"


def course_command(root: Path, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "course_lib.cli", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env=isolated_env(root.parent / "instructor-shell"),
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def stop_hub(process: subprocess.Popen, course_root: Path) -> None:
    """Stop the hub, then whatever it started that outlived it (proxy, service, servers)."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    left = [
        proc
        for proc in psutil.process_iter(["cmdline"])
        if any(str(course_root) in part for part in proc.info["cmdline"] or [])
    ]
    for proc in left:
        proc.terminate()
    _, alive = psutil.wait_procs(left, timeout=20)
    for proc in alive:
        proc.kill()


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """The course's hub on a copy of the course, lesson 01 generated, on a free port."""
    if not PROXY.is_file():
        pytest.fail(f"{PROXY} is missing: run `make hub-proxy` (npm ci in hub/)")
    course = copy_course(tmp_path_factory.mktemp("hubcourse") / "course")
    (course.root / "hub").mkdir()
    for name in ("jupyterhub_config.py", "students"):
        source = ROOT / "hub" / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, course.root / "hub" / name)
    (course.root / "hub" / "node_modules").symlink_to(ROOT / "hub" / "node_modules")
    course_command(course.root, "release", LESSON)
    port = free_port()
    ARTEFACTS.mkdir(exist_ok=True)
    log = ARTEFACTS / "test_hub-server.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("jupyterhub")),
                "-f",
                str(course.root / "hub" / "jupyterhub_config.py"),
                f"--port={port}",
            ],
            cwd=course.root,
            env=isolated_env(tmp_path_factory.mktemp("hubhome")),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/hub/api", 180, process, log)
        yield url, course
    finally:
        stop_hub(process, course.root)


def log_in(browser, url: str, user: str):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    return page


def formgrader_action(page, url: str, column: str, done: str) -> None:
    """Click ``column``'s button on lesson 01's row in formgrader; wait for its success."""
    page.goto(f"{url}/services/keras-course/formgrader/manage_assignments")
    page.locator("tr", has_text=LESSON).locator(f"td.{column} a").click(timeout=180_000)
    modal = page.locator(".modal-dialog").filter(has_text=done)
    expect(modal).to_be_visible(timeout=300_000)


def assignment_list(page):
    page.get_by_role("menuitem", name="Nbgrader").click()
    page.get_by_role("menuitem", name="Assignment List").click()
    return page.locator("#assignments")


def test_a_student_and_the_instructor_through_the_hub(browser, hub):
    url, course = hub
    started = time.monotonic()
    instructor = log_in(browser, url, "instructor")
    formgrader_action(instructor, url, "release", f"Successfully released '{LESSON}'")
    screenshot(instructor, "hub-1-instructor-released")

    student = log_in(browser, url, "alice")
    student.wait_for_url("**/user/alice/lab**", timeout=180_000)
    assignments = assignment_list(student)
    assignments.locator("#released_assignments_list").get_by_role("button", name="Fetch").click(
        timeout=120_000
    )
    fetched = assignments.locator("#fetched_assignments_list")
    expect(fetched).to_contain_text(LESSON, timeout=60_000)
    screenshot(student, "hub-2-student-fetched")

    home = course.root / ".course" / "hub" / "homes" / "alice"
    lab = Lab(f"{url}/user/alice", "", home)
    notebook = NotebookPage(student, lab, f"{LESSON}/{LESSON}.ipynb").open()
    for grade_id, code in solutions(course, LESSON).items():
        notebook.write(grade_id, code)
    student.keyboard.press("Control+s")
    expect(student.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty")).to_have_count(0)
    assignments = assignment_list(student)
    assignments.locator("#fetched_assignments_list").get_by_role("button", name="Submit").click()
    expect(assignments.locator("#submitted_assignments_list")).to_contain_text(
        LESSON, timeout=60_000
    )
    screenshot(student, "hub-3-student-submitted")

    formgrader_action(instructor, url, "collect", "Success")
    course_command(course.root, "grade", LESSON, "--all")
    course_command(course.root, "feedback", LESSON)
    formgrader_action(instructor, url, "release-feedback", "Success")
    screenshot(instructor, "hub-4-instructor-released-feedback")

    assignments = assignment_list(student)
    submitted = assignments.locator("#submitted_assignments_list")
    submitted.get_by_role("button", name="Fetch Feedback").click(timeout=60_000)
    submitted.get_by_text("(view feedback)").click(timeout=60_000)  # the file browser goes there
    student.locator(".jp-DirListing-item", has_text=f"{LESSON}.html").dblclick(timeout=60_000)
    feedback = student.frame_locator(".jp-HTMLViewer iframe")
    expect(feedback.locator("strong", has_text="Score: 10 / 10")).to_be_visible(timeout=60_000)
    expect(feedback.get_by_role("heading", name=f"{LESSON}: your feedback")).to_be_visible()
    screenshot(student, "hub-5-student-feedback")
    assert "hidden_test" not in feedback.locator("body").inner_text()
    print(f"hub scenario: {time.monotonic() - started:.0f} s")
    assert list((home / LESSON / "feedback").glob(f"*/{LESSON}.html"))
