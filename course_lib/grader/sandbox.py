"""Launch a grading kernel confined from the outside.

``python -P -m course_lib.grader.sandbox --config CONFIG -f CONNECTION_FILE`` is the command of
the grading kernelspec (``-P``: nothing is imported from the working folder, which the student
writes to). It forks: the child starts a session of its own (no controlling terminal), takes
its standard input from ``/dev/null``, confines itself for good (:func:`course_lib.grader.
confine.apply`: an allow-listed environment, no capabilities, Landlock; resource limits) and
becomes an ordinary ipykernel; the parent stays outside, passes interrupts on, watches the
child's memory and kills it past the cap, and records why the kernel ended (and the Landlock
ABI in effect) in a status file that the kernel itself cannot write.

In a batch, the kernel is forked instead from a process that has already imported
TensorFlow (:mod:`course_lib.grader.forkserver`), which does the same with a watcher of its
own; this launcher then only passes signals on and waits for it. If that fails, it starts
the kernel itself as above: slower, same kernel.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from course_lib.grader import confine, landlock
from course_lib.grader.processes import kill_tree, tree_rss

POLL_SECONDS = 0.05


THREAD_ENV = ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def shared_kernel_env(threads: dict[str, str]) -> dict[str, str]:
    """The environment every grading kernel gets, whatever its folders (``threads``: its
    :data:`THREAD_ENV`). A forked kernel's fork server imports with exactly this."""
    return {
        **confine.tensorflow_env({key: threads[key] for key in THREAD_ENV if key in threads}),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "COURSE_GRADING": "1",
    }


@dataclass
class SandboxConfig:
    """Everything the launcher needs; written to a file the kernel cannot read or change."""

    status_file: str
    workdir: str
    memory_mb: int
    read_only: list[str] = field(default_factory=list)
    read_write: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    """The kernel's whole environment (``JPY_*`` from jupyter_client is added)."""
    block_network: bool = True
    log_file: str | None = None
    """Where a forked kernel writes its standard output and error (a started one inherits them)."""
    forkserver_file: str | None = None
    """A file naming the fork server to ask for the kernel (never read by the kernel's side)."""

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> SandboxConfig:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


def write_status(path: str, status: dict) -> None:
    tmp = f"{path}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(status, handle)
        os.replace(tmp, path)
    except OSError:  # the grader already cleaned up: nobody is listening any more
        pass


def _no_terminal() -> None:
    """Standard input from /dev/null, and no inherited terminal on the standard outputs."""
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    for fd in (1, 2):
        if os.isatty(fd):
            os.dup2(null, fd)
    os.close(null)


def confine_kernel(config: SandboxConfig, from_launcher: dict[str, str]) -> None:
    """Child side: die with the watcher, own session, limits, confinement (for good)."""
    import ctypes

    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the watcher
    os.setsid()  # a session of its own: no controlling terminal, and it cannot get one
    _no_terminal()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    one_gib = 1024**3
    resource.setrlimit(resource.RLIMIT_FSIZE, (one_gib, one_gib))
    os.chdir(config.workdir)
    confine.apply(
        confine.Confinement(
            read_only=config.read_only,
            read_write=config.read_write,
            env={**from_launcher, **config.env},
            block_network=config.block_network,
        )
    )


def launcher_env() -> dict[str, str]:
    """What jupyter_client tells the kernel through the launcher's environment (``JPY_*``)."""
    return {key: value for key, value in os.environ.items() if key.startswith("JPY_")}


def _confine_and_exec(config: SandboxConfig, kernel_argv: list[str]) -> None:
    """Child side: confine, then exec ipykernel. Never returns."""
    confine_kernel(config, launcher_env())
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *kernel_argv])


def _kill_leftovers() -> None:
    """Kill whatever the kernel left running (reparented to this watcher) and reap it."""
    kill_tree(os.getpid(), include_root=False)
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def become_watcher() -> None:
    """Make this process the kernel's watcher: the subreaper of whatever the kernel leaves."""
    import ctypes

    # PR_SET_CHILD_SUBREAPER: processes the kernel leaves behind (double fork, setsid) become
    # the watcher's children instead of init's, so they can be found and killed.
    ctypes.CDLL(None).prctl(36, 1)


def watcher_identity() -> dict:
    """This process as the kernel's watcher: its pid and start time (a pid can be reused)."""
    import psutil

    return {"watcher": os.getpid(), "watcher_started": psutil.Process().create_time()}


def is_watcher(status: dict) -> bool:
    """Whether the watcher a status file names is still that very process."""
    import psutil

    try:
        return psutil.Process(int(status["watcher"])).create_time() == status["watcher_started"]
    except (psutil.Error, KeyError, TypeError, ValueError):
        return False


def watch(child: int, config: SandboxConfig, abandoned: Callable[[], bool] = lambda: False) -> int:
    """Watcher side: until ``child`` ends, enforce the memory cap and keep the status file.

    Every status written names this watcher (the grader kills its tree too). If
    ``abandoned()`` turns true (whoever launched the kernel is gone), the tree is killed.
    """

    def forward_interrupt(signum, _frame):
        # jupyter_client interrupts the watcher's process group; the kernel has its own session
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child, signal.SIGINT)

    signal.signal(signal.SIGINT, forward_interrupt)

    def forward_term(signum, _frame):
        kill_tree(os.getpid(), include_root=False)

    signal.signal(signal.SIGTERM, forward_term)
    limit = config.memory_mb * 1024 * 1024
    peak = 0
    started = time.monotonic()
    last_write = 0.0
    abi = landlock.abi_version()  # the child confined itself with this version, or died
    watcher = {**watcher_identity(), "landlock_abi": abi}
    while True:
        pid, wait_status = os.waitpid(child, os.WNOHANG)
        if pid == child:
            code = os.waitstatus_to_exitcode(wait_status)
            status = {
                "reason": "exited" if code >= 0 else "signal",
                "code": code,
                "peak_mb": round(peak / 2**20),
                "seconds": round(time.monotonic() - started, 2),
                **watcher,
            }
            write_status(config.status_file, status)
            _kill_leftovers()
            return 0 if code == 0 else 1
        rss = tree_rss(os.getpid(), include_root=False)  # the kernel and what it left behind
        peak = max(peak, rss)
        if rss > limit or abandoned():
            kill_tree(os.getpid(), include_root=False)
            os.waitpid(child, 0)
            _kill_leftovers()
            reason = "memory" if rss > limit else "abandoned"
            write_status(
                config.status_file,
                {
                    "reason": reason,
                    "peak_mb": round(peak / 2**20),
                    "limit_mb": config.memory_mb,
                    **watcher,
                },
            )
            return 1
        now = time.monotonic()
        if now - last_write > 1.0:
            status = {"reason": "running", "peak_mb": round(peak / 2**20), **watcher}
            write_status(config.status_file, status)
            last_write = now
        time.sleep(POLL_SECONDS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True, type=Path)
    args, kernel_argv = parser.parse_known_args(argv)
    config = SandboxConfig.read(args.config)
    import ctypes

    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: stop when the grader dies
    if config.forkserver_file:
        from course_lib.grader import forkserver

        code = forkserver.run_forked(config, args.config, kernel_argv, launcher_env())
        if code is not None:
            return code
    become_watcher()
    child = os.fork()
    if child == 0:
        try:
            _confine_and_exec(config, kernel_argv)
        finally:
            os._exit(70)
    return watch(child, config)


if __name__ == "__main__":
    sys.exit(main())
