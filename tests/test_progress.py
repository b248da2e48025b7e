"""Does a class's grading show progress from the first second, on a terminal and in a log?"""

from __future__ import annotations

import io
import threading

from course_lib.classroom.progress import Progress, clock, printable


class Terminal(io.StringIO):
    """A stream that says it is a terminal, and signals every write."""

    def __init__(self) -> None:
        super().__init__()
        self.written = threading.Event()

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        count = super().write(text)
        self.written.set()
        return count


def test_in_a_log_every_event_is_a_plain_line():
    stream = io.StringIO()
    progress = Progress(2, stream=stream, width=8)
    assert stream.getvalue() == "grading 2 submission(s)\n"
    progress.started("ada")
    progress.step("ada graded 10/10", name="ada")
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[1] == "started: ada"
    assert lines[2].startswith("[####....] 1/2  0:00 elapsed  ETA 0:00")
    assert lines[2].endswith("last: ada graded 10/10")
    assert "\r" not in stream.getvalue() and "\033" not in stream.getvalue()


def test_on_a_terminal_the_line_is_drawn_at_once_and_redrawn_without_events():
    stream = Terminal()
    progress = Progress(3, stream=stream, interval=0.05)
    try:
        assert "0/3" in stream.getvalue() and "ETA ?" in stream.getvalue()  # before any event
        progress.started("ada")
        for _ in range(3):  # ticks keep coming while nothing finishes
            stream.written.clear()
            assert stream.written.wait(10)
        assert stream.getvalue().count("\r\033[K") >= 4
        assert "running: ada 0:0" in stream.getvalue()
    finally:
        progress.close()
    assert stream.getvalue().endswith("\n")
    drawn = stream.getvalue().count("\r")
    stream.written.clear()
    assert not stream.written.wait(0.3), "closed: no more redraws"
    assert stream.getvalue().count("\r") == drawn


def test_the_line_names_running_submissions_and_an_eta():
    progress = Progress(4, stream=io.StringIO())
    progress.started("ada")
    progress.started("bo")
    progress.step("cy graded 5/10", name="cy")
    line = progress.line()
    assert "1/4" in line and "running: ada 0:00, bo 0:00" in line and "last: cy graded" in line
    assert "ETA 0:00" in line
    assert (clock(75), clock(3725)) == ("1:15", "1:02:05")


def test_strings_from_submissions_cannot_drive_the_terminal():
    stream = io.StringIO()
    progress = Progress(1, stream=stream)
    evil = "ada\x1b[2J\rowned\x07"
    progress.started(evil)
    progress.note(f"kept {evil}")
    progress.step(f"{evil} graded", name=evil)
    assert "\x1b" not in stream.getvalue() and "\x07" not in stream.getvalue()
    assert "\r" not in stream.getvalue()
    assert printable(evil) == "ada\\x1b[2J\\rowned\\x07"
