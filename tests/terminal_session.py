"""Run a command on a real pseudo-terminal, as an instructor's shell would, and see what it did.

The command gets the terminal as its controlling terminal and standard streams. Afterwards we
have everything it (or anything it started) wrote to the screen, and whatever was left in the
terminal's input queue: what the instructor's shell would read and run next.
"""

from __future__ import annotations

import fcntl
import os
import select
import subprocess
import termios
import threading
import time
from dataclasses import dataclass


@dataclass
class Session:
    returncode: int
    screen: bytes
    """Every byte written to the terminal (echoed input included)."""
    typed: bytes
    """What was left to read from the terminal: input for the shell after the command."""


def _controlling_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def run_on_terminal(argv: list[str], *, cwd, env: dict, timeout: float) -> Session:
    """Run ``argv`` with a new pseudo-terminal as its controlling terminal."""
    master, slave = os.openpty()
    screen = bytearray()

    def read_screen() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: no process has the terminal open any more
                return
            if not chunk:
                return
            screen.extend(chunk)

    reader = threading.Thread(target=read_screen, daemon=True)
    reader.start()
    try:
        process = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env={**env, "TERM": "xterm"},
            start_new_session=True,
            preexec_fn=_controlling_terminal,
        )
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        time.sleep(0.5)  # let late output arrive
        os.set_blocking(slave, False)
        termios.tcsetattr(slave, termios.TCSANOW, _raw(termios.tcgetattr(slave)))
        typed = b""
        while select.select([slave], [], [], 0.2)[0]:
            try:
                chunk = os.read(slave, 4096)
            except BlockingIOError:
                break
            if not chunk:
                break
            typed += chunk
    finally:
        os.close(slave)
        reader.join(timeout=5)
        os.close(master)
    return Session(returncode, bytes(screen), typed)


def _raw(attributes: list) -> list:
    """Non-canonical mode: read what is queued even without a newline."""
    attributes = list(attributes)
    attributes[3] &= ~(termios.ICANON | termios.ECHO)
    return attributes
