"""Grading kernels forked from a process that has already imported TensorFlow.

A cold grading kernel spends seconds of a core importing TensorFlow and Keras, for every
submission of a batch. The warm server (:mod:`course_lib.classroom.warm`) therefore starts
one fork server: a fresh interpreter with the kernels' environment and nothing of the
instructor's (no token, no environment of theirs), which imports :data:`PRELOAD` once and
then, per request, forks a watcher that forks the kernel. The kernel confines itself exactly
as a cold one does (:func:`course_lib.grader.sandbox.confine_kernel`), forgets the fork
server's modules of ``course_lib`` and its random state, and becomes an ipykernel in the
same process; the watcher enforces the memory cap and keeps the status file as the cold
launcher's watcher does.

The fork server reads requests only from a socket pair whose other end the warm server holds;
the warm server passes on each request it accepted (the launcher's token checked and left
out) with the launcher's connection attached. On that connection the watcher names itself
and the kernel, then reports how the kernel ended; when the launcher is gone, the watcher
kills the kernel's tree. The kernel closes both before it confines itself, so nothing it
runs can reach the fork server, the warm server or another kernel.

The fork server imports with every kernel's environment (:func:`course_lib.grader.sandbox.
shared_kernel_env`: thread counts, the matplotlib backend, …, which the preloaded modules read
once, at import); a request whose kernel environment differs from it in anything but the
kernel's own folders is refused, and the launcher starts the kernel itself (:func:`run_forked`
returns None): slower, the same kernel.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import traceback
from pathlib import Path

from course_lib.grader import confine, sandbox
from course_lib.grader.processes import exit_after, kill_tree

PRELOAD = ("numpy", "tensorflow", "keras", "ipykernel.kernelapp")
"""What the fork server imports once (TensorFlow itself imports matplotlib and scikit-learn)."""
OWN_ENV = ("PYTHONPATH", "HOME", "MPLCONFIGDIR", "TMPDIR", "IPYTHONDIR")
"""The fork server's own values of the variables a kernel gets for its folders."""
MAX_REQUEST_BYTES = 1 << 16
ANSWER_TIMEOUT = 60
"""Seconds a launcher waits for its kernel's watcher (the fork server may still be importing)."""
KERNEL_ENTRY = "kernel"
"""The warm server's name for a kernel request (it passes those on to its fork server)."""
_PR_SET_PDEATHSIG = 1

_env_at_start: dict[str, str] = {}
"""The environment the fork server imported with."""
_set_by_imports: dict[str, str] = {}
"""Environment variables the preloaded modules set (a cold kernel sets them when it imports)."""


def environment(threads: dict[str, str], folder: Path) -> dict[str, str]:
    """The fork server's whole environment: every kernel's (:func:`sandbox.shared_kernel_env`),
    its folders in ``folder``. Its imports read it; a kernel's must match it."""
    (folder / "matplotlib").mkdir(parents=True, exist_ok=True)
    return {
        **sandbox.shared_kernel_env(threads),
        "HOME": str(folder),
        "MPLCONFIGDIR": str(folder / "matplotlib"),
    }


def start(env: dict[str, str], cwd: str) -> socket.socket:
    """Start a fork server in private folder ``cwd``; returns the only socket it listens to."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        subprocess.Popen(
            # no -P: like a cold kernel's interpreter (IPython then adds the working folder)
            [sys.executable, "-m", "course_lib.grader.forkserver", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    finally:
        theirs.close()
    ours.setblocking(False)  # a fork server that stops reading never blocks the warm server
    return ours


def pass_request(server: socket.socket, request: dict, connection: socket.socket) -> bool:
    """Hand an accepted kernel request and the launcher's connection to the fork server."""
    payload = json.dumps(request).encode()
    if len(payload) > MAX_REQUEST_BYTES:
        return False
    try:
        socket.send_fds(server, [payload], [connection.fileno()])
    except OSError:
        return False
    return True


def serve(channel_fd: int) -> None:
    """The fork server: preload, then fork a watched kernel per request until the pair closes."""
    import ctypes

    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # ends with the warm server
    if os.getppid() == 1:
        return
    channel = socket.socket(fileno=channel_fd)
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # the fork server's folder: a kernel imports from its own
    global _env_at_start, _set_by_imports
    _env_at_start = dict(os.environ)
    for name in PRELOAD:
        importlib.import_module(name)
    _set_by_imports = {k: v for k, v in os.environ.items() if _env_at_start.get(k) != v}
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # watchers are reaped by the system
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(channel, MAX_REQUEST_BYTES, 1)
        except InterruptedError:
            continue
        if not message and not fds:
            return  # the warm server is gone
        if len(fds) == 1 and os.fork() == 0:
            channel.close()
            _watcher(fds[0], message)
        for fd in fds:
            os.close(fd)


def _refusal(request: dict) -> tuple[sandbox.SandboxConfig | None, str | None]:
    """The request's sandbox configuration, or why this fork server cannot start its kernel."""
    try:
        config = sandbox.SandboxConfig.read(Path(request["config"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return None, f"unreadable request: {type(exc).__name__}"
    for key in sorted((set(config.env) | set(_env_at_start)) - set(OWN_ENV)):
        if config.env.get(key) != _env_at_start.get(key):
            return None, f"the kernel's {key} differs from the fork server's"
    return config, None


def _watcher(connection_fd: int, message: bytes) -> None:
    """In the forked watcher: fork the kernel, watch it, report how it ended; never returns."""
    code = 1
    connection = socket.socket(fileno=connection_fd)
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        connection.setblocking(True)
        request = json.loads(message)
        config, problem = _refusal(request)
        if problem:
            connection.sendall(json.dumps({"refused": problem}).encode() + b"\n")
            os._exit(0)
        sandbox.become_watcher()
        starting = {"reason": "starting", **sandbox.watcher_identity()}
        sandbox.write_status(config.status_file, starting)
        log = os.open(config.log_file or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        child = os.fork()
        if child == 0:
            connection.close()
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.close(log)
            _kernel(config, [str(a) for a in request["argv"]], dict(request["env"]))
        os.close(log)
        connection.sendall(json.dumps({"kernel": child, "watcher": os.getpid()}).encode() + b"\n")
        code = sandbox.watch(child, config, abandoned=lambda: _closed(connection))
        with contextlib.suppress(OSError):
            connection.sendall(json.dumps({"exit": code}).encode() + b"\n")
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def _closed(connection: socket.socket) -> bool:
    """Whether the launcher closed its end (it sends nothing after its request)."""
    readable, _, _ = select.select([connection], [], [], 0)
    if not readable:
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _kernel(config: sandbox.SandboxConfig, argv: list[str], from_launcher: dict) -> None:
    """In the forked kernel: confine, look like a fresh interpreter, be an ipykernel; no return."""

    def kernel() -> None:
        launcher = {str(k): str(v) for k, v in from_launcher.items() if str(k).startswith("JPY_")}
        sandbox.confine_kernel(config, launcher)
        _fresh_interpreter(config)
        from ipykernel import kernelapp

        sys.argv = ["ipykernel_launcher", *argv]
        kernelapp.launch_new_instance(argv=argv)

    exit_after(kernel)


def _fresh_interpreter(config: sandbox.SandboxConfig) -> None:
    """What a cold ``python -m ipykernel_launcher`` in the working folder would start with.

    Its import path (its ``PYTHONPATH``, then the installation's; IPython adds the working
    folder), the environment variables its imports set, no ``course_lib`` imported yet (the
    student's first import sets up the notebook session), and NumPy's global random state
    drawn afresh (Python's ``random`` reseeds itself after a fork).
    """
    import numpy as np

    own = {confine.python_path(), ""}
    given = [p for p in config.env.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = [*given, *(p for p in sys.path if p not in own)]
    for key, value in _set_by_imports.items():
        os.environ.setdefault(key, value)
    for name in [n for n in sys.modules if n == "course_lib" or n.startswith("course_lib.")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    np.random.seed()


def run_forked(
    config: sandbox.SandboxConfig, config_path: Path, argv: list[str], from_launcher: dict
) -> int | None:
    """Launcher side: have the kernel forked, pass signals on, return how it ended.

    None if no kernel was forked (no fork server, or it refused): start one cold instead.
    """
    try:
        address = json.loads(Path(config.forkserver_file).read_text(encoding="utf-8"))
        connection = _request_kernel(
            address, {"config": str(config_path), "argv": argv, "env": from_launcher}
        )
    except (OSError, ValueError, TypeError, KeyError):
        return None
    with connection, connection.makefile("rb") as answers:
        try:
            connection.settimeout(ANSWER_TIMEOUT)
            started = json.loads(answers.readline(MAX_REQUEST_BYTES) or b"{}")
            kernel, watcher = int(started["kernel"]), int(started["watcher"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        _pass_signals_on(kernel, watcher)
        connection.settimeout(None)
        try:
            ended = json.loads(answers.readline(MAX_REQUEST_BYTES) or b"{}")
            return int(ended["exit"])
        except (OSError, ValueError, KeyError, TypeError):
            kill_tree(watcher)  # the watcher died: nothing of the kernel may stay
            return 1


def _request_kernel(address: dict, request: dict) -> socket.socket:
    """Send ``request`` to the warm server at ``address`` (its socket and token).

    Returns the connection on which the kernel's watcher will answer.
    """
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(ANSWER_TIMEOUT)
    try:
        connection.connect(str(address["socket_path"]))
        message = {**request, "token": str(address["token"]), "entry": KERNEL_ENTRY}
        connection.sendall(json.dumps(message).encode() + b"\n")
    except OSError:
        connection.close()
        raise
    return connection


def _pass_signals_on(kernel: int, watcher: int) -> None:
    """Interrupts go to the kernel's session; a termination kills the kernel's tree."""

    def interrupt(signum, _frame):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(kernel, signal.SIGINT)

    def terminate(signum, _frame):
        kill_tree(watcher, include_root=False)

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, terminate)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
