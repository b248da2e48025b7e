"""Reading files a student controls: regular files only, never through a link, size checked first.

A submitted notebook and a kernel's hand-in are named by paths the student could have made
into a symbolic link (to the solution, to a grader file), a FIFO that blocks the reader
forever, a device, or a file of gigabytes. :func:`open_regular` opens with ``O_NOFOLLOW`` and
``O_NONBLOCK`` and checks the opened file itself (``fstat``): a regular file of at most the
given size, or :class:`RefusedFile` with the reason in plain words. Folders on the way can be
checked the same way (:func:`open_folder`), relative to a folder already opened.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_CHUNK = 1 << 20


class RefusedFile(Exception):
    """The path is not a regular file (or folder) the grader may read; the message says why."""


def _refusal(path: Path, error: OSError, what: str) -> RefusedFile:
    if error.errno in (errno.ELOOP, errno.EMLINK):
        return RefusedFile(f"{path.name} is a symbolic link, not a {what}")
    if error.errno == errno.ENOTDIR:
        return RefusedFile(f"{path.name} is not a {what}")
    return RefusedFile(f"cannot read {path.name}: {error.strerror or error}")


def open_folder(path: Path, *, dir_fd: int | None = None) -> int:
    """A file descriptor of folder ``path`` (relative to ``dir_fd`` if given), never a link."""
    path = Path(path)
    try:
        return os.open(
            path,
            os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
            dir_fd=dir_fd,
        )
    except FileNotFoundError:
        raise
    except OSError as error:
        raise _refusal(path, error, "folder") from None


def open_regular(path: Path, max_bytes: int, *, dir_fd: int | None = None) -> tuple[int, int]:
    """``(fd, size)`` of regular file ``path``, opened without following a link.

    Raises FileNotFoundError if it does not exist, :class:`RefusedFile` if it is a link, a
    FIFO, a device, a folder or larger than ``max_bytes``.
    """
    path = Path(path)
    try:
        fd = os.open(
            path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd
        )
    except FileNotFoundError:
        raise
    except OSError as error:
        raise _refusal(path, error, "regular file") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a FIFO or device"
            raise RefusedFile(f"{path.name} is {kind}, not a regular file")
        if info.st_size > max_bytes:
            raise RefusedFile(
                f"{path.name} is {info.st_size / 2**20:.0f} MB, over the "
                f"{max_bytes / 2**20:.0f} MB limit"
            )
    except BaseException:
        os.close(fd)
        raise
    return fd, info.st_size


def read_regular(path: Path, max_bytes: int, *, dir_fd: int | None = None) -> bytes:
    """The bytes of regular file ``path`` (at most ``max_bytes``; see :func:`open_regular`)."""
    fd, _ = open_regular(path, max_bytes, dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew after the check
        raise RefusedFile(f"{Path(path).name} is over the {max_bytes / 2**20:.0f} MB limit")
    return data


def move_plain(source: Path, target: Path, max_bytes: int) -> bool:
    """Move ``source`` to a new ``target`` if it is a plain file of ours; True if moved.

    Plain: a regular file (not followed if a link), with one name (not a second name of
    another file), owned by this user, within ``max_bytes``, on the same file system. Call it
    only once every process that could write the file is gone (a dead kernel): the move then
    saves copying hundreds of megabytes of hand-in arrays. Anything else returns False, for
    :func:`copy_regular` to copy or refuse.
    """
    try:
        info = os.lstat(source)
    except OSError:
        return False
    if not (
        stat.S_ISREG(info.st_mode)
        and info.st_nlink == 1
        and info.st_uid == os.getuid()
        and info.st_size <= max_bytes
    ) or os.path.lexists(target):
        return False
    try:
        os.rename(source, target)
        os.chmod(target, 0o600, follow_symlinks=False)
    except OSError:
        return False
    return True


def copy_regular(source: Path, target: Path, max_bytes: int) -> None:
    """Copy regular file ``source`` to a new file ``target`` (see :func:`open_regular`)."""
    fd, _ = open_regular(source, max_bytes)
    copied = 0
    with os.fdopen(fd, "rb") as reader, open(target, "xb") as writer:
        while chunk := reader.read(_CHUNK):
            copied += len(chunk)
            if copied > max_bytes:
                raise RefusedFile(f"{source.name} is over the {max_bytes / 2**20:.0f} MB limit")
            writer.write(chunk)
