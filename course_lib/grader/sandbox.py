"""Launch a grading kernel confined from the outside.

``python -m course_lib.grader.sandbox --config CONFIG -f CONNECTION_FILE`` is the command of the
grading kernelspec. It forks: the child confines itself (Landlock: read-only Python
installation, a private read-write working folder, no outgoing TCP; resource limits)
and becomes an ordinary ipykernel; the parent stays outside, watches the child's memory
and kills it past the cap, and records why the kernel ended in a status file that the
kernel itself cannot write.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import site
import sys
import sysconfig
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from course_lib.grader import landlock
from course_lib.grader.processes import kill_tree, tree_rss

POLL_SECONDS = 0.05
_SYSTEM_READ_ONLY = ["/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/sys", "/opt"]


@dataclass
class SandboxConfig:
    """Everything the launcher needs; written to a file the kernel cannot read or change."""

    status_file: str
    workdir: str
    memory_mb: int
    read_only: list[str] = field(default_factory=list)
    read_write: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    block_network: bool = True

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> SandboxConfig:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


def python_read_only_paths() -> list[str]:
    """The folders a Python kernel needs to read: the interpreter, its packages, course_lib."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages()}
    paths.update(p for p in sysconfig.get_paths().values() if p)
    paths.add(str(Path(__file__).resolve().parents[1]))  # course_lib itself, not the course
    return sorted(paths) + _SYSTEM_READ_ONLY


def _write_status(path: str, status: dict) -> None:
    tmp = f"{path}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(status, handle)
        os.replace(tmp, path)
    except OSError:  # the grader already cleaned up: nobody is listening any more
        pass


def _confine_and_exec(config: SandboxConfig, kernel_argv: list[str]) -> None:
    """Child side: limits, Landlock, then exec ipykernel. Never returns."""
    import ctypes

    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the watcher
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    one_gib = 1024**3
    resource.setrlimit(resource.RLIMIT_FSIZE, (one_gib, one_gib))
    os.environ.update(config.env)
    os.chdir(config.workdir)
    landlock.restrict(
        [Path(p) for p in config.read_only],
        [Path(p) for p in config.read_write],
        block_tcp=config.block_network,
    )
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *kernel_argv])


def _kill_leftovers() -> None:
    """Kill whatever the kernel left running (reparented to this watcher) and reap it."""
    kill_tree(os.getpid(), include_root=False)
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True, type=Path)
    args, kernel_argv = parser.parse_known_args(argv)
    config = SandboxConfig.read(args.config)
    import ctypes

    libc = ctypes.CDLL(None)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: stop when the grader dies
    # PR_SET_CHILD_SUBREAPER: processes the kernel leaves behind (double fork, setsid) become
    # the watcher's children instead of init's, so they can be found and killed.
    libc.prctl(36, 1)

    child = os.fork()
    if child == 0:
        try:
            _confine_and_exec(config, kernel_argv)
        finally:
            os._exit(70)

    # The kernel's process group gets SIGINT from jupyter_client; the watcher ignores it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def forward_term(signum, _frame):
        kill_tree(os.getpid(), include_root=False)

    signal.signal(signal.SIGTERM, forward_term)
    limit = config.memory_mb * 1024 * 1024
    peak = 0
    started = time.monotonic()
    last_write = 0.0
    status: dict = {"reason": "running", "peak_mb": 0}
    while True:
        pid, wait_status = os.waitpid(child, os.WNOHANG)
        if pid == child:
            code = os.waitstatus_to_exitcode(wait_status)
            status = {
                "reason": "exited" if code >= 0 else "signal",
                "code": code,
                "peak_mb": round(peak / 2**20),
                "seconds": round(time.monotonic() - started, 2),
            }
            _write_status(config.status_file, status)
            _kill_leftovers()
            return 0 if code == 0 else 1
        rss = tree_rss(os.getpid(), include_root=False)  # the kernel and what it left behind
        peak = max(peak, rss)
        if rss > limit:
            kill_tree(os.getpid(), include_root=False)
            os.waitpid(child, 0)
            _kill_leftovers()
            _write_status(
                config.status_file,
                {"reason": "memory", "peak_mb": round(peak / 2**20), "limit_mb": config.memory_mb},
            )
            return 1
        now = time.monotonic()
        if now - last_write > 1.0:
            status = {"reason": "running", "peak_mb": round(peak / 2**20)}
            _write_status(config.status_file, status)
            last_write = now
        time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
