"""The warm server: forks a fresh task per request, for its token holders only."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from course_lib.classroom import warm
from course_lib.grader import confine
from course_lib.grader.processes import kill_tree

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("warm")]

TESTS = textwrap.dedent(
    """
    import sys

    def test_tensorflow_was_imported_before_the_fork():
        assert "tensorflow" in sys.modules

    def test_a_task_cannot_leave_state_for_the_next():
        assert not hasattr(sys, "left_by_an_earlier_task")
        sys.left_by_an_earlier_task = True
    """
)


@pytest.fixture(scope="module")
def server():
    started = warm.WarmServer({**os.environ, "PYTHONHASHSEED": "0"})
    yield started
    started.stop()
    assert not started.alive()


def confined(folder, test_file) -> list[str]:
    """The graders' sandbox arguments for running ``test_file`` in ``folder``."""
    (folder / "out").mkdir(exist_ok=True)
    sandbox = confine.Confinement(
        read_only=[*confine.python_read_only_paths(), str(folder)],
        read_write=[str(folder / "out")],
        env={**confine.base_env(), "TMPDIR": str(folder / "out"), "HOME": str(folder / "out")},
    )
    config = folder / "sandbox.json"
    config.write_text(json.dumps({"confinement": sandbox.as_dict(), "cwd": str(folder)}))
    return [
        *("--sandbox", str(config), str(test_file), "-p", "no:cacheprovider", "-q"),
        *("--rootdir", str(folder), "--confcutdir", str(folder)),
    ]


def run_tests(server, folder, *extra) -> int:
    (folder / "test_probe.py").write_text(TESTS)
    args = [*confined(folder, folder / "test_probe.py"), *extra]
    task = warm.spawn(server.address, "verdict", args, cwd=str(folder))
    return task.wait(timeout=120)


def test_each_task_is_a_fresh_fork_with_the_imports_done(server, tmp_path):
    assert run_tests(server, tmp_path) == 0  # asked at once: waits for the server's imports
    assert server.ready()
    assert run_tests(server, tmp_path) == 0  # the first task's module state is gone


def test_a_failing_task_reports_its_exit_status(server, tmp_path):
    assert run_tests(server, tmp_path, "-k", "no_such_test") == 5  # pytest: nothing collected


def test_a_client_without_the_token_is_refused(server, tmp_path):
    forged = warm.Address(server.address.socket_path, "0" * 32)
    with pytest.raises(OSError, match="refused"):
        warm.spawn(forged, "verdict", [], cwd=str(tmp_path))
    with pytest.raises(OSError, match="refused"):
        warm.spawn(server.address, "anything else", [], cwd=str(tmp_path))


def test_a_killed_task_ends_as_killed_and_the_server_goes_on(server, tmp_path):
    (tmp_path / "test_slow.py").write_text(
        "import time\n\ndef test_sleeps():\n    time.sleep(60)\n"
    )
    task = warm.spawn(
        server.address, "verdict", confined(tmp_path, tmp_path / "test_slow.py"), cwd=str(tmp_path)
    )
    time.sleep(1)
    kill_tree(task.pid)
    assert task.wait(timeout=30) == -9
    assert server.alive() and run_tests(server, tmp_path) == 0


def test_a_task_ends_when_the_process_that_asked_for_it_ends(server, tmp_path):
    (tmp_path / "test_slow.py").write_text(
        "import time\n\ndef test_sleeps():\n    time.sleep(60)\n"
    )
    asker = textwrap.dedent(
        f"""
        from course_lib.classroom import warm
        task = warm.spawn(warm.Address({server.address.socket_path!r}, {server.address.token!r}),
                          "verdict", {confined(tmp_path, tmp_path / "test_slow.py")!r},
                          cwd={str(tmp_path)!r})
        print(task.pid, flush=True)
        """
    )
    out = subprocess.run([sys.executable, "-c", asker], capture_output=True, text=True, check=True)
    pid = int(out.stdout)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _running(pid):
        time.sleep(0.2)
    assert not _running(pid), "the task outlived the process that asked for it"


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_server_ends_with_the_process_that_started_it():
    starter = (
        "from course_lib.classroom import warm; print(warm.WarmServer({}).process.pid, flush=True)"
    )
    out = subprocess.run(
        [sys.executable, "-c", starter], capture_output=True, text=True, check=True
    )
    pid = int(out.stdout)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _running(pid):
        time.sleep(0.2)
    assert not _running(pid), "the server outlived the process that started it"


def test_a_client_trickling_bytes_costs_the_others_nothing(server, tmp_path):
    """A client that never finishes its request neither blocks nor delays the next one."""
    assert server.ready(timeout=300)
    tricklers = []
    for _ in range(3):
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(server.address.socket_path)
        tricklers.append(conn)
    stop = threading.Event()

    def trickle() -> None:
        while not stop.is_set():
            for conn in tricklers:
                with contextlib.suppress(OSError):
                    conn.send(b" ")
            time.sleep(0.2)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        assert run_tests(server, tmp_path) == 0  # served while the others trickle
        for conn in tricklers:  # and the server hangs up on them at their deadline
            conn.settimeout(warm.REQUEST_TIMEOUT + 60)
            assert conn.recv(1) == b""
    finally:
        stop.set()
        thread.join()
        for conn in tricklers:
            conn.close()
