"""Fixtures of the browser suite: a course copy served by ``course lab``, and Chromium.

Every test drives Debian's Chromium (``/usr/bin/chromium``) through Playwright, never a
browser Playwright downloads. Screenshots go to ``tests/browser/artefacts/`` (git-ignored).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from course_lib.admin.release import venv_env

from ..conftest import copy_course
from .jupyterlab import Lab

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_http(url: str, timeout: float, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"no answer from {url} in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def isolated_env(home: Path) -> dict[str, str]:
    """The venv's environment with Jupyter's own folders private to this test run."""
    env = venv_env()
    for name, sub in (
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
        ("IPYTHONDIR", "ipython"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[name] = str(home / sub)
    env.setdefault("KERAS_HOME", str(Path.home() / ".keras"))
    env.pop("COURSE_DIR", None)
    return env


def stop(process: subprocess.Popen) -> None:
    """End the process group this fixture started: the server, then any kernel left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def start_lab(root: Path, home: Path, name: str):
    """Start ``course lab`` on ``root``; return (Lab, process)."""
    port, token = free_port(), secrets.token_hex(16)
    ARTEFACTS.mkdir(exist_ok=True)
    log = ARTEFACTS / f"{name}-server.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "course_lib.cli",
                "--course-dir",
                str(root),
                "lab",
                "--port",
                str(port),
                "--no-browser",
                "--",
                f"--ServerApp.token={token}",
            ],
            cwd=root,
            env=isolated_env(home),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    lab = Lab(f"http://127.0.0.1:{port}", token, root)
    try:
        wait_for_http(lab.address("api/status"), 180, process, log)
    except BaseException:
        stop(process)
        raise
    return lab, process


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory):
    return copy_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="module")
def lab(course_copy, tmp_path_factory, request):
    lab, process = start_lab(
        course_copy.root, tmp_path_factory.mktemp("home"), request.module.__name__.split(".")[-1]
    )
    yield lab
    stop(process)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (make test-browser does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str, **options) -> Path:
    """Save a screenshot under tests/browser/artefacts/ and return its path."""
    ARTEFACTS.mkdir(exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), **options)
    return path
