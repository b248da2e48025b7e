"""Watching process trees from the outside: memory, time, and killing them."""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from dataclasses import dataclass

import psutil


def tree_rss(pid: int, *, include_root: bool = True) -> int:
    """Resident memory of a process (unless not ``include_root``) and its descendants, in bytes."""
    try:
        root = psutil.Process(pid)
        procs = [*([root] if include_root else []), *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


def kill_tree(pid: int, *, include_root: bool = True) -> None:
    """SIGKILL a process and all its descendants (only the descendants if not ``include_root``)."""
    try:
        root = psutil.Process(pid)
        procs = [*root.children(recursive=True), *([root] if include_root else [])]
    except psutil.Error:
        return
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.kill()


@dataclass
class Finished:
    """How a watched command ended."""

    returncode: int | None
    stdout: str
    stderr: str
    reason: str | None  # None, "timeout" or "memory"
    seconds: float
    peak_mb: int


def run_watched(
    cmd: list[str],
    *,
    timeout: float,
    memory_mb: int,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
) -> Finished:
    """Run ``cmd``; kill its whole tree past ``timeout`` seconds or ``memory_mb`` of RSS."""
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    state = {"reason": None, "peak": 0}
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.1):
            rss = tree_rss(proc.pid)
            state["peak"] = max(state["peak"], rss)
            if rss > memory_mb * 2**20:
                state["reason"] = "memory"
                kill_tree(proc.pid)
                return
            if time.monotonic() - started > timeout:
                state["reason"] = "timeout"
                kill_tree(proc.pid)
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        stdout, stderr = proc.communicate()
    finally:
        done.set()
        watcher.join()
    return Finished(
        proc.returncode,
        stdout,
        stderr,
        state["reason"],
        round(time.monotonic() - started, 2),
        round(state["peak"] / 2**20),
    )
