"""Can a student's outputs run a script in the instructor's formgrader, or in their feedback page?

The corpus notebook ``outputs_that_run_scripts`` is a correct solution whose outputs (HTML with
``onerror``, ``<script>``, SVG ``onload``, JavaScript, markdown, a fake PNG, an iframe, image
metadata) and whose own markdown and raw cells carry a script that, on the Jupyter server's
origin, writes a file through the contents API, starts a kernel and opens a terminal. It is
graded as a class of one; then JupyterLab with formgrader runs on 127.0.0.1 and headless
Chromium opens the submission exactly as an instructor does (Manual Grading → the
submission), and the student's feedback page. No script may run: no file written, no kernel
started, no terminal opened, no trace of the script in the page.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from course_lib.admin.release import release_lesson, venv_env
from course_lib.grader.course import Course

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("formgrader-attack")]

ROOT = Path(__file__).resolve().parents[2]
LESSON = "01_regression"
STUDENT = "mallory"
ATTACK = ROOT / "tests" / "adversarial" / "outputs_that_run_scripts.ipynb"
WRITTEN = "WRITTEN_BY_STUDENT.txt"
CHROMIUM = "/usr/bin/chromium"


def _graded_class(root: Path) -> Course:
    """A course folder whose one student submitted the attack, graded and given feedback."""
    for name in ("source", "release", "autograder"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    course = Course(root)
    assert release_lesson(course, LESSON) == []
    folder = root / "submitted" / STUDENT / LESSON
    folder.mkdir(parents=True)
    shutil.copy(ATTACK, folder / f"{LESSON}.ipynb")
    for command in (
        ["grade", LESSON, "--all", "--cell-timeout", "120", "--timeout", "600"],
        ["feedback", LESSON],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "course_lib.cli", *command],
            cwd=root,
            env=venv_env(),
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    return course


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Jupyter:
    """JupyterLab (with formgrader) on 127.0.0.1, a random port and a token."""

    def __init__(self, root: Path) -> None:
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{_free_port()}"
        env = venv_env()
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        self.log = open(root / "jupyter.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--allow-root",
                "--ip=127.0.0.1",
                f"--port={self.url.rsplit(':', 1)[1]}",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={root}",
            ],
            cwd=root,
            env=env,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )
        deadline = time.monotonic() + 180
        while True:
            try:
                self.api("status")
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("JupyterLab did not start") from None
                time.sleep(0.5)

    def api(self, path: str):
        request = urllib.request.Request(
            f"{self.url}/api/{path}", headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def exists(self, path: str) -> bool:
        try:
            self.api(f"contents/{path}")
            return True
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return False
            raise

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


@pytest.fixture(scope="module")
def _formgrader(tmp_path_factory):
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    course = _graded_class(tmp_path_factory.mktemp("formgrader"))
    jupyter = _Jupyter(course.root)
    yield course, jupyter
    jupyter.stop()


def _submission_id(course: Course) -> str:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gradebook:
        return gradebook.find_submission_notebook(LESSON, LESSON, STUDENT).id


def _open(browser, url: str, name: str, first: str | None = None):
    """Open ``url`` in headless Chromium (after ``first``, as a user would); what the page
    shows, and whether the script ran. The screenshot goes to the artefacts folder."""
    dialogs = []
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        if first:  # JupyterLab itself: the session and _xsrf cookies an instructor has
            page.goto(first, wait_until="networkidle")
        page.goto(url, wait_until="networkidle")
        page.wait_for_timeout(3000)  # time for an injected script to run and call the API
        screenshot(page, name, full_page=True)
        ran = page.evaluate("() => window.__courseAttack || 0")
        text = page.inner_text("body")
    finally:
        context.close()
    return text, ran, dialogs


def test_the_attackers_submission_runs_no_script_in_formgrader(_formgrader, browser):
    course, jupyter = _formgrader
    kernels_before = jupyter.api("kernels")
    lab = f"{jupyter.url}/lab?token={jupyter.token}"
    url = f"{jupyter.url}/formgrader/submissions/{_submission_id(course)}/"
    text, ran, dialogs = _open(browser, url, "attack-formgrader-submission", first=lab)

    assert "Submission 1 / 1" in text and "My notes" in text  # the page and the student's text
    assert ran == 0 and dialogs == []
    assert not jupyter.exists(WRITTEN)
    assert jupyter.api("kernels") == kernels_before == []
    assert jupyter.api("terminals") == []


def test_the_attackers_feedback_page_runs_no_script(_formgrader, browser):
    course, _ = _formgrader
    page = course.root / "feedback" / STUDENT / LESSON / f"{LESSON}.html"
    text, ran, dialogs = _open(browser, page.as_uri(), "attack-feedback-page")
    assert "Score: 10 / 10" in text
    assert ran == 0 and dialogs == []
