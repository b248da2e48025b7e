"""Watching process trees from the outside: memory, time, and killing them."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

import psutil

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_CHILDREN_LISTED = os.path.exists(f"/proc/self/task/{threading.get_native_id()}/children")
"""Linux lists a thread's children (CONFIG_PROC_CHILDREN) on nearly every distribution."""


def tree_rss(pid: int, *, include_root: bool = True) -> int:
    """Resident memory of a process (unless not ``include_root``) and its descendants, in bytes.

    Called several times a second by every watcher, so it reads the kernel's list of each
    process's children (a few small files) rather than every process's parent (psutil reads
    all of ``/proc``: ten times the cost, growing with the machine's processes).
    """
    if not _CHILDREN_LISTED:
        return _tree_rss_scanned(pid, include_root=include_root)
    pids = [pid] if include_root else []
    todo, seen = _children(pid), {pid}
    while todo:
        child = todo.pop()
        if child not in seen:
            seen.add(child)
            pids.append(child)
            todo.extend(_children(child))
    return sum(_rss(each) for each in pids)


def _children(pid: int) -> list[int]:
    """``pid``'s children: each of its threads lists the ones it started."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    children = []
    for task in tasks:
        path = f"/proc/{pid}/task/{task}/children"
        with contextlib.suppress(OSError, ValueError), open(path, "rb") as listed:
            children.extend(int(child) for child in listed.read().split())
    return children


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


def _tree_rss_scanned(pid: int, *, include_root: bool) -> int:
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


class Watch:
    """Samples a running process tree's memory and kills it past a time or memory limit."""

    def __init__(self, pid: int, *, timeout: float, memory_mb: int) -> None:
        self.pid = pid
        self.started = time.monotonic()
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.reason: str | None = None  # None, "timeout" or "memory"
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(0.1):
            rss = tree_rss(self.pid)
            self.peak = max(self.peak, rss)
            if rss > self.memory_mb * 2**20:
                self.reason = "memory"
            elif time.monotonic() - self.started > self.timeout:
                self.reason = "timeout"
            else:
                continue
            kill_tree(self.pid)
            return

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def finished(self, returncode: int | None, stdout: str, stderr: str) -> Finished:
        self.stop()
        return Finished(
            returncode,
            stdout,
            stderr,
            self.reason,
            round(time.monotonic() - self.started, 2),
            round(self.peak / 2**20),
        )


def run_watched(
    cmd: list[str],
    *,
    timeout: float,
    memory_mb: int,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
) -> Finished:
    """Run ``cmd``; kill its whole tree past ``timeout`` seconds or ``memory_mb`` of RSS."""
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
    watch = Watch(proc.pid, timeout=timeout, memory_mb=memory_mb)
    try:
        stdout, stderr = proc.communicate()
    finally:
        watch.stop()
    return watch.finished(proc.returncode, stdout, stderr)


class Prestarted:
    """A command started now, that waits for a line on its standard input to do its work.

    It is watched, for time and memory, from :meth:`go` on (until then it only prepares).
    Closing its standard input without that line (:meth:`cancel`, or this process dying)
    tells it to end.
    """

    GO = "go\n"

    def __init__(
        self,
        cmd: list[str],
        *,
        memory_mb: int,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.memory_mb = memory_mb
        self.process = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            text=True,
            errors="replace",
            start_new_session=True,
        )

    def go(self, timeout: float) -> Finished:
        """Tell it to work now; how it ended (killed past ``timeout`` s or the memory limit)."""
        watch = Watch(self.process.pid, timeout=timeout, memory_mb=self.memory_mb)
        try:
            stdout, stderr = self.process.communicate(self.GO)
        finally:
            watch.stop()
        return watch.finished(self.process.returncode, stdout, stderr)

    def cancel(self) -> None:
        """End it (and anything it started) without letting it work."""
        if self.process.returncode is None:
            kill_tree(self.process.pid)
            with contextlib.suppress(Exception):
                self.process.communicate(timeout=10)


def end_with(pid: int) -> None:
    """When process ``pid`` is gone, kill this process's descendants and exit (a thread watches)."""
    try:
        born = psutil.Process(pid).create_time()
    except psutil.Error:
        born = None

    def alive() -> bool:
        try:
            return born is not None and psutil.Process(pid).create_time() == born
        except psutil.Error:
            return False

    def watch() -> None:
        while alive():
            time.sleep(0.5)
        for _ in range(3):  # again, in case a child was being started during the first pass
            kill_tree(os.getpid(), include_root=False)
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def exit_after(
    body: Callable[[], int | None], last: Callable[[int], None] = lambda code: None
) -> NoReturn:
    """In a forked child: run ``body``, then ``last(status)``, and end with ``body``'s status.

    Never returns: the child ends with ``os._exit`` (nothing of its parent's runs at exit),
    1 if ``body`` raised (its traceback on standard error).
    """
    code = 1
    try:
        code = body() or 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(Exception):
            last(code)
        os._exit(code)
