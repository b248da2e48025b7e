"""Kernels forked by the warm server's fork server: the same kernel as a cold one, confined."""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict

import nbformat
import psutil
import pytest

from course_lib.classroom import warm
from course_lib.grader.execution import execute_notebook
from course_lib.grader.report import Status
from course_lib.grader.settings import Limits
from course_lib.grader.verdict import grader_env

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("warm")]

LIMITS = Limits(threads=1, cell_timeout=5)

PROBE = """
import json, os, sys
import matplotlib.pyplot as plt
plt.plot([1, 2, 3])
print(json.dumps({
    "path": sys.path,
    "env": sorted(os.environ),
    "cwd": os.getcwd(),
    "course_lib_file": sys.modules["course_lib"].__file__,
    "parent": open(f"/proc/{os.getppid()}/cmdline").read().replace("\\0", " "),
}))
"""


@pytest.fixture(scope="module")
def server():
    started = warm.WarmServer({**os.environ, **grader_env(LIMITS)})
    assert started.ready(timeout=120)
    yield started
    started.stop()


def run(cells: list[str], tmp_path, kernel_server=None, limits=LIMITS):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    handin = tmp_path / f"handin-{time.monotonic_ns()}"
    handin.mkdir()
    started = time.monotonic()
    outcome = execute_notebook(
        notebook, spec={}, limits=limits, handin_dir=handin, kernel_server=kernel_server
    )
    return outcome, time.monotonic() - started


def text(outcome, index: int) -> str:
    """What cell ``index`` printed, and the messages of its errors."""
    cell = outcome.notebook.cells[index]
    return "".join(
        o.get("text", "") if o.output_type == "stream" else json.dumps(o.get("evalue", ""))
        for o in cell.outputs
        if o.output_type in ("stream", "error")
    )


def output_kinds(outcome) -> list[list[str]]:
    """The first cell's outputs: their types, and the formats of displayed data."""
    return [[o.output_type, *sorted(o.get("data", {}))] for o in outcome.notebook.cells[0].outputs]


def without_run_folder(value):
    return json.loads(re.sub(r"/course-run-[^/\"]+", "/course-run-X", json.dumps(value)))


def test_a_forked_kernel_starts_as_a_cold_one_would(server, tmp_path):
    forked, _ = run([PROBE], tmp_path, asdict(server.address))
    cold, _ = run([PROBE], tmp_path)
    assert forked.status is Status.GRADED and cold.status is Status.GRADED
    seen_forked, seen_cold = json.loads(text(forked, 0)), json.loads(text(cold, 0))
    # its watcher is a fork of the fork server; a cold kernel's is the launcher
    assert "course_lib.grader.forkserver" in seen_forked["parent"]
    assert "course_lib.grader.sandbox" in seen_cold["parent"]
    # same import path (the working folder included), environment names, folder, course_lib
    for key in ("path", "env", "cwd", "course_lib_file"):
        assert without_run_folder(seen_forked[key]) == without_run_folder(seen_cold[key]), key
    # the same outputs: the figure drawn inline (TensorFlow imports matplotlib in the fork
    # server, with the kernels' backend)
    assert output_kinds(forked) == output_kinds(cold)
    assert ["display_data", "image/png", "text/plain"] in output_kinds(forked)


def test_a_forked_kernel_is_confined_and_holds_nothing_of_the_servers(server, tmp_path):
    cells = [
        # the launcher's file naming the warm server (with its token) is out of reach
        "import glob, os\n"
        "print([p for p in glob.glob('/tmp/course-run-*/private/*')])\n"
        "try:\n    open(os.path.expanduser('~/../private/forkserver.json')).read()\n"
        "    print('READ')\nexcept OSError as exc:\n    print('refused', type(exc).__name__)",
        # no socket it inherited: each one it holds is one ipykernel opened for itself
        "import os, stat\n"
        "fds = [int(f) for f in os.listdir('/proc/self/fd')]\n"
        "print(json.dumps(sorted(os.readlink(f'/proc/self/fd/{f}') for f in fds\n"
        "    if os.path.exists(f'/proc/self/fd/{f}') and\n"
        "    stat.S_ISSOCK(os.stat(f'/proc/self/fd/{f}').st_mode))))",
    ]
    cells[1] = "import json\n" + cells[1]
    outcome, _ = run(cells, tmp_path, asdict(server.address))
    assert outcome.status is Status.GRADED, outcome.incidents
    assert "refused" in text(outcome, 0) and "READ" not in text(outcome, 0)
    assert "forkserver.json" not in text(outcome, 0)
    kernel_sockets = set(json.loads(text(outcome, 1)))
    assert kernel_sockets  # ipykernel's own
    fork_servers = [
        p
        for p in psutil.Process(server.process.pid).children()
        if "course_lib.grader.forkserver" in " ".join(p.cmdline())
    ]
    assert len(fork_servers) == 1
    theirs = {
        os.readlink(f"/proc/{fork_servers[0].pid}/fd/{fd}")
        for fd in os.listdir(f"/proc/{fork_servers[0].pid}/fd")
    }
    assert not kernel_sockets & theirs


def test_a_forked_kernel_is_interrupted_and_leaves_no_process(server, tmp_path):
    cells = [
        "import subprocess, sys\n"
        "left = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'],\n"
        "                        start_new_session=True)\nprint(left.pid)",
        "import time\ntime.sleep(60)",
        "print('after')",
    ]
    outcome, seconds = run(cells, tmp_path, asdict(server.address))
    assert seconds < 40
    assert "after" in text(outcome, 2)
    assert "ran longer than 5 s" in text(outcome, 1)
    assert not psutil.pid_exists(int(text(outcome, 0))) or (
        psutil.Process(int(text(outcome, 0))).status() == psutil.STATUS_ZOMBIE
    )


def test_a_kernel_the_fork_server_cannot_match_starts_cold(server, tmp_path):
    # two threads, where the fork server imported TensorFlow for one: refused, started cold
    outcome, _ = run(
        [PROBE], tmp_path, asdict(server.address), limits=LIMITS.with_overrides(threads=2)
    )
    assert outcome.status is Status.GRADED
    assert "course_lib.grader.sandbox" in json.loads(text(outcome, 0))["parent"]
