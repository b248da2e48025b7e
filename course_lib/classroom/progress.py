"""A progress bar with an ETA on stderr (one line per step when stderr is not a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from course_lib.grader.terminal import printable


def clock(seconds: float) -> str:
    """``75.0`` → ``"1:15"``; ``3725`` → ``"1:02:05"``."""
    seconds = round(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """``[#####.....] 4/8  1:10 elapsed  ETA 1:10  last: alice graded 10/10``."""

    def __init__(self, total: int, *, stream: TextIO | None = None, width: int = 24) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.monotonic()
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())

    def line(self, last: str = "") -> str:
        elapsed = time.monotonic() - self.started
        filled = self.width * self.done // max(self.total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        eta = (
            f"ETA {clock(elapsed / self.done * (self.total - self.done))}" if self.done else "ETA ?"
        )
        text = f"[{bar}] {self.done}/{self.total}  {clock(elapsed)} elapsed  {eta}"
        return f"{text}  last: {printable(last)}" if last else text

    def step(self, last: str = "") -> None:
        """One more item finished; ``last`` says which and how."""
        self.done += 1
        self.show(last)

    def note(self, text: str) -> None:
        """A line of its own, above the bar."""
        self.stream.write(("\r\033[K" if self.live else "") + printable(text) + "\n")
        self.stream.flush()

    def show(self, last: str = "") -> None:
        if self.live:
            self.stream.write("\r\033[K" + self.line(last))
            if self.done >= self.total:
                self.stream.write("\n")
        else:
            self.stream.write(self.line(last) + "\n")
        self.stream.flush()
