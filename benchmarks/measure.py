"""Measuring commands for the benchmarks: wall time, CPU time, peak memory of a process tree."""

from __future__ import annotations

import resource
import subprocess
import threading
import time
from pathlib import Path

import psutil

from course_lib.admin.release import venv_env


def pss(process: psutil.Process) -> int:
    """Proportional set size: shared pages (the warm server's imports) split among sharers."""
    try:
        return process.memory_full_info().pss
    except psutil.Error:
        return 0


class PeakMemory:
    """Samples the memory of ``course grade``: all its processes, and each task's tree.

    A task is a child of a warm server (a submission's grading, or one grader run), or a
    cold-started ``course_lib.classroom.job`` process; its tree includes the sandboxed kernel.
    """

    def __init__(self, root_pid: int) -> None:
        self.root_pid = root_pid
        self.task_peaks: dict[int, int] = {}
        self.total_peak = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        # PSS reads /proc/PID/smaps (~10 ms a process): once a second, once per process
        while not self.stop.wait(1.0):
            try:
                root = psutil.Process(self.root_pid)
                processes = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            sizes = {p.pid: pss(p) for p in processes}
            self.total_peak = max(self.total_peak, sum(sizes.values()))
            for process in processes:
                try:
                    command = " ".join(process.cmdline())
                    parent = " ".join(process.parent().cmdline()) if process.parent() else ""
                    task = "course_lib.classroom.job" in command
                    if not task and "course_lib.classroom.warm" not in parent:
                        continue
                    tree = [process, *process.children(recursive=True)]
                except psutil.Error:
                    continue
                size = sum(sizes.get(p.pid, 0) for p in tree)
                self.task_peaks[process.pid] = max(self.task_peaks.get(process.pid, 0), size)

    def finish(self) -> tuple[int, list[int]]:
        """Peak MB of everything together, and each task's peak MB (sorted)."""
        self.stop.set()
        self.thread.join()
        return round(self.total_peak / 2**20), sorted(
            round(v / 2**20) for v in self.task_peaks.values()
        )


def cpu_seconds() -> float:
    """User + system CPU time of every finished (reaped) descendant so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(
    cmd: list[str], cwd: Path, measure_memory: bool = False, env: dict[str, str] | None = None
):
    """Wall seconds, CPU seconds and (if ``measure_memory``) peak memory of running ``cmd``.

    ``env`` adds variables to the venv's environment.
    """
    cpu = cpu_seconds()
    started = time.monotonic()
    process = subprocess.Popen(
        cmd,
        cwd=cwd,
        env={**venv_env(), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    memory = PeakMemory(process.pid) if measure_memory else None
    output, _ = process.communicate()
    seconds = time.monotonic() - started
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd[:4])} failed ({process.returncode}):\n{output[-3000:]}")
    return seconds, cpu_seconds() - cpu, memory.finish() if memory else (0, [])
