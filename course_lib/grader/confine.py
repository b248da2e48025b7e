"""Confining a grading process for good: files, devices, network, environment and privileges.

Two processes run what a submission made: the kernel that executes the notebook
(:mod:`course_lib.grader.sandbox`) and the hidden graders that load its hand-in
(:mod:`course_lib.grader.verdict`). Both confine themselves with :func:`apply` before they
touch anything of the student's: an environment of their own (never the instructor's),
no capabilities (root included: no ``TIOCSTI`` on another terminal, no raw sockets), and a
Landlock ruleset that lets them read the Python installation, exactly the ``course_lib``
the running command imported and what they are given, write only their own folders, and
open only ``/dev/null``, ``/dev/zero`` and ``/dev/urandom`` (no terminal, no device
``ioctl``). Both import ``course_lib`` from :func:`python_path`, the folder of the copy the
command itself runs, so a course folder's own ``course_lib/`` changes nothing.
"""

from __future__ import annotations

import ctypes
import os
import site
import sys
import sysconfig
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from course_lib.grader import landlock

SYSTEM_READ_ONLY = ["/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/sys", "/opt"]
DEVICES = {
    "/dev/null": landlock.DEVICE_READ_WRITE,
    "/dev/zero": landlock.DEVICE_READ,
    "/dev/urandom": landlock.DEVICE_READ,
    "/dev/random": landlock.DEVICE_READ,
}
"""The only devices a confined process may open (measured: TensorFlow, Keras, matplotlib,
scikit-learn and ipykernel need no other), never with ``ioctl``."""

_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def course_lib_dir() -> Path:
    """The ``course_lib`` package this process runs (what confined processes may read)."""
    return Path(__file__).resolve().parents[1]


def python_path() -> str:
    """``PYTHONPATH`` for every process the kit starts: the folder of that same ``course_lib``."""
    return str(course_lib_dir().parent)


def python_path_folder(folder: Path) -> Path:
    """``folder``, holding only a link to this ``course_lib``: ``PYTHONPATH`` of a confined process.

    A confined process may read ``course_lib`` but not the folder around it (the course, with
    its graders), so Python could not look for ``course_lib`` there; in this folder, which it
    may read, it finds exactly this copy and nothing else.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "course_lib"
    if not link.is_symlink():
        link.symlink_to(course_lib_dir(), target_is_directory=True)
    return folder


def keras_home() -> Path:
    """Where Keras keeps its datasets (read-only for confined processes)."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


def python_read_only_paths() -> list[str]:
    """The folders a confined Python needs to read: the interpreter, its packages, course_lib."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages()}
    paths.update(p for p in sysconfig.get_paths().values() if p)
    paths.add(str(course_lib_dir()))  # course_lib itself, not the course folder around it
    return sorted(paths) + SYSTEM_READ_ONLY


def base_env() -> dict[str, str]:
    """The environment every confined process starts from (nothing of the instructor's)."""
    scripts = str(Path(sys.executable).parent)
    return {
        "PATH": os.pathsep.join([scripts, "/usr/local/bin", "/usr/bin", "/bin"]),
        "LANG": "C.UTF-8",
        "PYTHONPATH": python_path(),
        "PYTHONNOUSERSITE": "1",
    }


def tensorflow_env(threads: dict[str, str]) -> dict[str, str]:
    """What a confined process that runs TensorFlow starts with (kernels and graders alike):
    :func:`base_env`, ``threads`` (its CPU thread counts), the Keras cache, fixed hashing,
    quiet logs, no GPU, and no joblib probe of /dev/shm (which is not allowed)."""
    return {
        **base_env(),
        **threads,
        "KERAS_HOME": str(keras_home()),
        "PYTHONHASHSEED": "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "CUDA_VISIBLE_DEVICES": "",
        "JOBLIB_MULTIPROCESSING": "0",
    }


@dataclass
class Confinement:
    """What a confined process may read and write, and the environment it gets."""

    read_only: list[str] = field(default_factory=list)
    read_write: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    block_network: bool = True

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Confinement:
        return cls(**data)


def drop_capabilities() -> bool:
    """Give up every Linux capability for good (root included); False if not all could go."""
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        last = 40
    complete = True
    for capability in range(last + 1):
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            complete = False  # no CAP_SETPCAP: an unprivileged user has none to drop anyway
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable (x2): all empty
    if libc.syscall(126 if os.uname().machine == "x86_64" else 91, header, data) != 0:
        complete = False
    return complete


def apply(confinement: Confinement) -> int:
    """Confine this process and its future children; returns the Landlock ABI in effect.

    Call it while the process has one thread, before anything of the student's is read.
    Raises OSError if the kernel refuses the Landlock ruleset.
    """
    os.environ.clear()
    os.environ.update(confinement.env)
    tempfile.tempdir = None  # read TMPDIR again
    drop_capabilities()
    return landlock.restrict(
        [Path(p) for p in confinement.read_only],
        [Path(p) for p in confinement.read_write],
        devices=DEVICES,
        block_tcp=confinement.block_network,
    )
