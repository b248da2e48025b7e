"""A warm grading process: TensorFlow, Keras and pytest imported once, a fresh fork per task.

Importing TensorFlow costs seconds, and a batch used to pay it twice per submission (the
grading process, then the grader process). A :class:`WarmServer` is started once per pool
worker host process. It imports everything, then forks one child per task: a whole
submission's grading (``job``) or one run of the hidden graders (``verdict``). Each child
is a fresh process that has touched no student's data, watched and killed from the
outside like any other; nothing a submission does reaches the server or a later task.

The server listens on a Unix socket in a private folder and runs a task only for a client
of the same user that sends its secret token. It reads every connection's request without
blocking, each against its own deadline, so a client that sends nothing or trickles bytes
costs the others nothing. It runs in a private folder with ``PYTHONPATH`` set to the
``course_lib`` the pool itself runs, so its tasks confine the kernel and the graders around
that same copy (never a ``course_lib/`` of the course folder).

Only the pool (which made the token and gave it to the server on stdin), the grading
processes it starts (in their private job file) and the server's own children (in memory)
know the token; the confined kernel and the confined graders can read none of these.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import secrets
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from course_lib.grader import confine, forkserver, startup
from course_lib.grader.processes import Finished, Watch, end_with, exit_after
from course_lib.grader.settings import Limits
from course_lib.grader.verdict import GRADER_MEMORY_MB, GraderRunner

PRELOAD = (
    "tensorflow",
    "keras",
    "pytest",
    "course_lib.classroom.job",
    "course_lib.grader.grade",
    "course_lib.grader.verdict_plugin",
    "course_lib.training_checks",
)
ENTRIES = {
    "job": ("course_lib.classroom.job", None, "main"),
    "verdict": ("course_lib.grader.verdict", "confine_graders", "run_graders"),
}
"""task → (module, function that confines the fresh fork first or None, function to run)."""

FORK_TIMEOUT = 60
BIND_GRACE = 30
PEER_CREDENTIALS = (socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
REQUEST_TIMEOUT = 5
"""Seconds a client has, from connecting, to send its whole request."""
MAX_REQUEST_BYTES = 1 << 20
MAX_PENDING = 64
_PR_SET_PDEATHSIG = 1

_address: Address | None = None
"""The server this process was forked from (set in the server, inherited by its tasks)."""
_kernels: socket.socket | None = None
"""The server's end of its fork server's socket pair (None in its tasks)."""


@dataclass(frozen=True)
class Address:
    socket_path: str
    token: str


def inherited_address() -> Address | None:
    """The warm server this process was forked from (or was told to use), if any."""
    return _address


def use(address: Address | None) -> None:
    """Let this (cold-started) process ask ``address`` for its tasks (None: start them cold)."""
    global _address
    _address = address


class WarmTask:
    """A task forked by the server: its pid, and its exit status once it ends."""

    def __init__(self, conn: socket.socket, pid: int) -> None:
        self.conn = conn
        self.pid = pid
        self.returncode: int | None = None

    def wait(self, timeout: float | None = None) -> int:
        """The task's exit status; -9 if it was killed (it never said how it ended)."""
        if self.returncode is not None:
            return self.returncode
        self.conn.settimeout(timeout)
        try:
            line = _read_line(self.conn)
        except TimeoutError:
            raise subprocess.TimeoutExpired("warm task", timeout) from None
        except OSError:
            line = b""
        self.conn.close()
        self.returncode = int(json.loads(line)["exit"]) if line else -9
        return self.returncode


def spawn(
    address: Address,
    entry: str,
    argv: list[str],
    *,
    cwd: str,
    stdout: str = os.devnull,
    stderr: str = os.devnull,
) -> WarmTask:
    """Ask the server at ``address`` to fork a task; raises OSError if it cannot."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(FORK_TIMEOUT)  # a server still importing answers when it is done
    try:
        _connect(conn, address.socket_path)
        request = {
            "token": address.token,
            "entry": entry,
            "argv": argv,
            "cwd": cwd,
            "stdout": stdout,
            "stderr": stderr,
        }
        conn.sendall(json.dumps(request).encode() + b"\n")
        line = _read_line(conn)
        if not line:
            raise OSError("the warm server refused the task")
        return WarmTask(conn, int(json.loads(line)["pid"]))
    except (OSError, ValueError, KeyError) as exc:
        conn.close()
        raise OSError(f"warm server: {exc}") from exc


def _connect(conn: socket.socket, path: str) -> None:
    """Connect, giving a server that was just started a few seconds to bind its socket."""
    deadline = time.monotonic() + BIND_GRACE
    while True:
        try:
            return conn.connect(path)
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def grader_runner(address: Address) -> GraderRunner:
    """Run the hidden graders in a child of the server at ``address``, watched from outside."""

    def run(args: list[str], private: Path, limits: Limits) -> Finished | None:
        stdout, stderr = private / "stdout.txt", private / "stderr.txt"
        try:
            task = spawn(
                address, "verdict", args, cwd=str(private), stdout=str(stdout), stderr=str(stderr)
            )
        except OSError:
            return None
        watch = Watch(task.pid, timeout=limits.verdict_timeout, memory_mb=GRADER_MEMORY_MB)
        try:
            returncode = task.wait()
        finally:
            watch.stop()
        return watch.finished(returncode, _text(stdout), _text(stderr))

    return run


def _text(path: Path) -> str:
    return path.read_text(errors="replace") if path.is_file() else ""


class WarmServer:
    """Start a server process (``env`` sets its threads) and stop it again.

    Its address is known at once: the server binds its socket first and imports after,
    so a task asked for while it warms up waits for it instead of failing.
    """

    def __init__(self, env: dict[str, str]) -> None:
        self.folder = tempfile.mkdtemp(prefix="course-warm-")
        self.address = Address(os.path.join(self.folder, "socket"), secrets.token_hex(16))
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-P", "-m", "course_lib.classroom.warm"),
                *(self.address.socket_path, str(os.getpid())),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=self.folder,
            env={**env, "PYTHONPATH": confine.python_path()},  # this very course_lib
            start_new_session=True,
        )
        self.process.stdin.write(f"{self.address.token}\n".encode())
        self.process.stdin.close()
        self._ready = False
        self._lock = threading.Lock()

    def ready(self, timeout: float = 0) -> bool:
        """Has the server finished importing (waiting up to ``timeout`` seconds)?"""
        with self._lock:
            if not self._ready and self.alive():
                self._ready = self._says_ready(timeout)
        return self._ready and self.alive()

    def _says_ready(self, timeout: float) -> bool:
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            return bool(selector.select(timeout)) and self.process.stdout.readline() == b"ready\n"

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Stop the server; its running tasks notice and end their process trees."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _read_line(conn: socket.socket, limit: int = MAX_REQUEST_BYTES) -> bytes:
    """One line from a connection the client side opened (it waits for the server)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(4096)
        if not chunk:
            return b""
        data += chunk
        if len(data) > limit:
            raise ValueError("request too long")
    return data


class _Pending:
    """A connection whose request is still arriving, with its own deadline."""

    def __init__(self, conn: socket.socket, owner: int) -> None:
        self.conn = conn
        self.owner = owner
        self.deadline = time.monotonic() + REQUEST_TIMEOUT
        self.data = b""


def _peer(conn: socket.socket) -> int | None:
    """The pid of the client if it runs as this user, else None."""
    pid, uid, _ = struct.unpack("3i", conn.getsockopt(*PEER_CREDENTIALS))
    return pid if uid == os.getuid() else None


def _request(pending: _Pending, token: str) -> dict | None:
    """The client's valid request, or None (a wrong token, task or anything malformed)."""
    try:
        request = json.loads(pending.data)
    except ValueError:
        return None
    if not isinstance(request, dict):
        return None
    if not secrets.compare_digest(str(request.get("token")), token):
        return None
    if request.get("entry") not in (*ENTRIES, forkserver.KERNEL_ENTRY):
        return None
    if not isinstance(request.get("argv"), list):
        return None
    return request


def _import_unless_orphaned(parent: int) -> None:
    """Import :data:`PRELOAD`, ending at once if ``parent`` dies meanwhile (imports take seconds).

    The kernel signals the server while it imports (``PR_SET_PDEATHSIG``); afterwards the
    main loop watches the parent itself (the signal follows the thread that started the server,
    which in a Dask worker may end before the process does).
    """
    import ctypes

    libc = ctypes.CDLL(None)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        sys.exit(0)
    startup.skip_iri_grammar()
    for name in PRELOAD:
        importlib.import_module(name)
    libc.prctl(_PR_SET_PDEATHSIG, 0)


def serve(socket_path: str, parent: int) -> None:
    """The server's main loop: listen, preload, fork one child per valid request.

    ``parent`` is the process that started the server: it ends when that one is gone (even
    while it imports). The token comes on stdin (never in the command line, which others can
    read). Requests
    are read without blocking, several at once, each within ``REQUEST_TIMEOUT`` seconds of
    its connection; the server forks from this single thread only.
    """
    global _address
    _address = Address(socket_path, sys.stdin.readline().strip())
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(64)
    global _kernels
    folder = Path(os.getcwd()) / "forkserver"
    _kernels = forkserver.start(forkserver.environment(dict(os.environ), folder), str(folder))
    _import_unless_orphaned(parent)
    listener.setblocking(False)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the system
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    pending: dict[int, _Pending] = {}
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    try:
        while os.getppid() == parent:
            now = time.monotonic()
            wait = min([1.0, *(p.deadline - now for p in pending.values())])
            for key, _ in selector.select(max(wait, 0)):
                if key.fileobj is listener:
                    _accept(listener, selector, pending)
                else:
                    _receive(key.fileobj, selector, pending, listener)
            now = time.monotonic()
            for fd, late in [(fd, p) for fd, p in pending.items() if p.deadline <= now]:
                _drop(fd, late, selector, pending)
    finally:
        listener.close()
        with contextlib.suppress(OSError):
            os.unlink(socket_path)


def _accept(listener, selector, pending: dict[int, _Pending]) -> None:
    try:
        conn, _ = listener.accept()
    except (BlockingIOError, InterruptedError):
        return
    try:
        owner = _peer(conn)
    except OSError:
        owner = None
    if owner is None or len(pending) >= MAX_PENDING:
        conn.close()
        return
    conn.setblocking(False)
    pending[conn.fileno()] = _Pending(conn, owner)
    selector.register(conn, selectors.EVENT_READ)


def _drop(fd: int, item: _Pending, selector, pending: dict[int, _Pending]) -> None:
    selector.unregister(item.conn)
    del pending[fd]
    item.conn.close()


def _receive(conn, selector, pending: dict[int, _Pending], listener) -> None:
    item = pending[conn.fileno()]
    try:
        chunk = conn.recv(65536)
    except (BlockingIOError, InterruptedError):
        return
    except OSError:
        chunk = b""
    item.data += chunk
    if not chunk or len(item.data) > MAX_REQUEST_BYTES:
        _drop(conn.fileno(), item, selector, pending)
        return
    if not item.data.endswith(b"\n"):
        return
    request = _request(item, _address.token)
    selector.unregister(conn)
    del pending[conn.fileno()]
    if request is None:
        conn.close()
        return
    if request["entry"] == forkserver.KERNEL_ENTRY:
        _pass_kernel_request(request, conn)
        conn.close()
        return
    if os.fork() == 0:
        listener.close()
        selector.close()
        if _kernels is not None:
            _kernels.close()
        for other in pending.values():
            other.conn.close()
        conn.setblocking(True)
        _run_task(conn, request, item.owner)
    conn.close()


def _pass_kernel_request(request: dict, conn: socket.socket) -> None:
    """Pass a kernel request on to the fork server, without the token.

    If it cannot take it, the launcher reads the connection's end and starts the kernel cold.
    The kernel's watcher ends it when that connection closes (the launcher is gone).
    """
    env = request.get("env")
    passed = {
        "config": str(request.get("config")),
        "argv": [str(arg) for arg in request["argv"]],
        "env": {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {},
    }
    if _kernels is not None:
        forkserver.pass_request(_kernels, passed, conn)


def _run_task(conn: socket.socket, request: dict, owner: int) -> None:
    """In the forked child: run one task with its own session and output files; never returns.

    A task that handles student data (the graders) is confined first, while this process
    still has its single thread. The task ends, with its process tree, when ``owner`` (the
    process that asked) is gone.
    """

    def task() -> int | None:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.setsid()
        os.chdir(request["cwd"])
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.dup2(target, fd)
            os.close(target)
        conn.sendall(json.dumps({"pid": os.getpid()}).encode() + b"\n")
        module_name, prepare, function = ENTRIES[request["entry"]]
        module = importlib.import_module(module_name)
        argv = list(request["argv"])
        if prepare:
            argv = getattr(module, prepare)(argv)
        end_with(owner)
        return getattr(module, function)(argv)

    def report(code: int) -> None:
        conn.sendall(json.dumps({"exit": code}).encode() + b"\n")

    exit_after(task, report)


if __name__ == "__main__":
    from course_lib.classroom import (
        warm,  # the tasks look the address up in that module, not __main__
    )

    warm.serve(sys.argv[1], int(sys.argv[2]))
