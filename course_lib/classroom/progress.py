"""Progress of a class's grading on stderr, from the first second.

On a terminal, one status line is redrawn every second from the moment the command starts
(``starting`` while the grading machinery loads, which takes seconds on a busy machine),
then done/total, elapsed time, ETA, the submissions being graded right now (and for how
long) and the last one finished. Elsewhere (a CI log, a file) it writes plain lines: one
when grading starts, one per submission started and finished. Student ids and messages
come from submissions: they are printed with control characters escaped.
"""

from __future__ import annotations

import shutil
import sys
import threading
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
    """``[#####.....] 4/8  1:10 elapsed  ETA 1:10  running: bo 0:42  last: al graded 10/10``.

    ``Progress(total)`` starts at once; ``Progress()`` shows ``starting`` until
    :meth:`begin` gives the number of submissions (one :meth:`begin` per lesson).
    """

    def __init__(
        self,
        total: int | None = None,
        *,
        label: str = "",
        stream: TextIO | None = None,
        width: int = 24,
        interval: float = 1.0,
    ) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.interval = interval
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._ticker: threading.Thread | None = None
        self._reset(total, label)
        if total is None and not self.live:
            self._write(f"{self._prefix()}starting\n")
        self._start()

    def _reset(self, total: int | None, label: str) -> None:
        self.total = total
        self.label = label
        self.done = 0
        self.started_at = time.monotonic()
        self.running: dict[str, float] = {}
        self.last = ""

    def _prefix(self) -> str:
        return f"{printable(self.label)}: " if self.label else ""

    def _start(self) -> None:
        if self.total is not None and not self.live:
            self._write(f"{self._prefix()}grading {self.total} submission(s)\n")
        if self.live:
            self._draw()
            self._stopped.clear()
            self._ticker = threading.Thread(target=self._tick, name="course-progress", daemon=True)
            self._ticker.start()

    def begin(self, total: int, label: str = "") -> Progress:
        """Start counting ``total`` submissions (of ``label``, e.g. a lesson)."""
        self._stop_ticker()
        with self._lock:
            self._reset(total, label or self.label)
        self._start()
        return self

    def line(self) -> str:
        """The status line as it reads now."""
        now = time.monotonic()
        elapsed = now - self.started_at
        if self.total is None:
            return f"{self._prefix()}starting  {clock(elapsed)} elapsed"
        filled = self.width * self.done // max(self.total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        remaining = self.total - self.done
        eta = f"ETA {clock(elapsed / self.done * remaining)}" if self.done else "ETA ?"
        parts = [
            f"{self._prefix()}[{bar}] {self.done}/{self.total}",
            f"{clock(elapsed)} elapsed",
            eta,
        ]
        if self.running:
            names = ", ".join(
                f"{printable(name)} {clock(now - since)}" for name, since in self.running.items()
            )
            parts.append(f"running: {names}")
        if self.last:
            parts.append(f"last: {printable(self.last)}")
        return "  ".join(parts)

    def started(self, name: str) -> None:
        """Submission ``name`` is being graded now."""
        with self._lock:
            self.running[name] = time.monotonic()
            if not self.live:
                self._write(f"started: {printable(name)}\n")

    def step(self, last: str = "", name: str | None = None) -> None:
        """One more submission finished; ``last`` says which and how."""
        with self._lock:
            self.done += 1
            self.last = last
            if name is not None:
                self.running.pop(name, None)
            if self.live:
                self._draw()
            else:
                self._write(self.line() + "\n")

    def note(self, text: str) -> None:
        """A line of its own, above the status line."""
        with self._lock:
            self._write(("\r\033[K" if self.live else "") + printable(text) + "\n")
            if self.live:
                self._draw()

    def close(self) -> None:
        """Stop redrawing; leave the final line on the terminal."""
        if self._stop_ticker():
            with self._lock:
                self._draw()
                self._write("\n")

    def _stop_ticker(self) -> bool:
        self._stopped.set()
        ticker, self._ticker = self._ticker, None
        if ticker is None:
            return False
        ticker.join()
        return True

    def _tick(self) -> None:
        while not self._stopped.wait(self.interval):
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        columns = shutil.get_terminal_size((100, 24)).columns
        self._write("\r\033[K" + self.line()[: max(columns - 1, 20)])

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: grading goes on
            pass
