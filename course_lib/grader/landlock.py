"""Linux Landlock: confine a process's file access and outgoing TCP, without privileges.

Used by the grading kernel launcher and by the hidden graders' process
(:mod:`course_lib.grader.confine`), so that they can read only the Python installation and what
they are given, write only their own folders, open a few harmless devices and no others (no
terminal), use no device ``ioctl`` (ABI ≥ 5), open no TCP connection (ABI ≥ 4), and neither
signal nor reach through abstract Unix sockets any process outside their own sandbox (ABI ≥ 6).
Landlock rules are inherited by children and cannot be lifted.
"""

from __future__ import annotations

import ctypes
import os
import platform
from pathlib import Path

_SYS_CREATE_RULESET = 444
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_PR_SET_NO_NEW_PRIVS = 38
_RULE_PATH_BENEATH = 1
_CREATE_RULESET_VERSION = 1

_EXECUTE = 1 << 0
_WRITE_FILE = 1 << 1
_READ_FILE = 1 << 2
_READ_DIR = 1 << 3
_REMOVE_DIR = 1 << 4
_REMOVE_FILE = 1 << 5
_MAKE_CHAR = 1 << 6
_MAKE_DIR = 1 << 7
_MAKE_REG = 1 << 8
_MAKE_SOCK = 1 << 9
_MAKE_FIFO = 1 << 10
_MAKE_BLOCK = 1 << 11
_MAKE_SYM = 1 << 12
_REFER = 1 << 13
_TRUNCATE = 1 << 14
_IOCTL_DEV = 1 << 15
_CONNECT_TCP = 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
_SCOPE_SIGNAL = 1 << 1

READ = _EXECUTE | _READ_FILE | _READ_DIR
WRITE = (
    READ
    | _WRITE_FILE
    | _REMOVE_DIR
    | _REMOVE_FILE
    | _MAKE_DIR
    | _MAKE_REG
    | _MAKE_SOCK
    | _MAKE_FIFO
    | _MAKE_SYM
    | _TRUNCATE
)


_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE | _IOCTL_DEV
"""The rights a rule on a single file (not a folder) may grant."""

DEVICE_READ = _READ_FILE
DEVICE_READ_WRITE = _READ_FILE | _WRITE_FILE | _TRUNCATE
"""What a confined process may do with a device it is given: read or write, never ``ioctl``."""

PROTECTIONS = [
    (1, "files: read and write only where allowed (Linux 5.13+)"),
    (3, "truncating files only where writing is allowed (Linux 6.2+)"),
    (4, "no outgoing TCP connections (Linux 6.7+)"),
    (5, "no ioctl on devices: no typing into a terminal (Linux 6.10+)"),
    (6, "no signals or abstract Unix sockets towards outside processes (Linux 6.12+)"),
]
"""What each Landlock ABI version adds to a confined grading process."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """The kernel's Landlock ABI version, 0 when unavailable."""
    if platform.system() != "Linux" or platform.machine() not in {"x86_64", "aarch64"}:
        return 0
    try:
        version = _libc().syscall(_SYS_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION)
    except OSError:
        return 0
    return max(int(version), 0)


def protections(abi: int) -> list[str]:
    """In plain words, what a process confined with Landlock ABI ``abi`` cannot do."""
    return [text for version, text in PROTECTIONS if abi >= version]


def _handled(abi: int) -> int:
    fs = WRITE | _MAKE_CHAR | _MAKE_BLOCK
    if abi >= 2:
        fs |= _REFER
    if abi < 3:
        fs &= ~_TRUNCATE
    if abi >= 5:
        fs |= _IOCTL_DEV
    return fs


def restrict(
    read_only: list[Path],
    read_write: list[Path],
    *,
    devices: dict[str, int] | None = None,
    block_tcp: bool = True,
) -> int:
    """Confine this process (and its future children). Returns the ABI used, 0 if unsupported.

    ``devices`` maps a device file to :data:`DEVICE_READ` or :data:`DEVICE_READ_WRITE`; no
    other device can be opened. Paths that do not exist are skipped. Call it while the
    process has a single thread (Landlock confines the calling thread and its future
    children), before running anything untrusted.
    """
    abi = abi_version()
    if abi == 0:
        return 0
    libc = _libc()
    handled_fs = _handled(abi)
    attr = _RulesetAttr(
        handled_fs,
        _CONNECT_TCP if (block_tcp and abi >= 4) else 0,
        _SCOPE_SIGNAL | _SCOPE_ABSTRACT_UNIX_SOCKET if abi >= 6 else 0,
    )
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), size, 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for access, paths in ((READ, read_only), (WRITE | (_REFER if abi >= 2 else 0), read_write)):
            for path in paths:
                _allow(libc, ruleset, Path(path), access & handled_fs)
        for path, access in (devices or {}).items():
            _allow(libc, ruleset, Path(path), access & handled_fs)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS) failed")
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return abi


def _allow(libc, ruleset: int, path: Path, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not path.is_dir():  # files accept only file rights
            access &= _FILE_RIGHTS
        rule = _PathBeneathAttr(access, fd)
        if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
    finally:
        os.close(fd)
