"""Student ids: folder names checked before any path, glob pattern or gradebook row uses them.

A student id is the name of a folder in ``submitted/``, chosen by whoever made that folder.
It becomes nbgrader's student id (a glob pattern and a database key for nbgrader), a file name
in ``.course/results/`` and text on the instructor's terminal. :func:`id_problem` says why a
name cannot be a student id (then that one submission is ungradable and the batch goes on):
not UTF-8, control characters, glob characters (nbgrader globs a student's folder path
again, so ``[a]*`` would match other students' folders), too long for the gradebook...;
:func:`file_stem` gives every name a unique, safe file name; :func:`nbgrader_pattern` is the
glob nbgrader is given (escaped, so that it can match that folder and no other).
"""

from __future__ import annotations

import glob
import hashlib
import re
import urllib.parse

from course_lib.grader.terminal import printable

MAX_ID_CHARS = 128
"""nbgrader's gradebook stores student ids in a 128-character column."""
GLOB_CHARACTERS = "*?[]"

_PLAIN_STEM = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,79}")
_MAX_QUOTED_STEM = 200


def id_problem(name: str) -> str | None:
    """Why folder ``name`` cannot be a student id (None when it can)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "the folder name is not valid UTF-8 text, so it cannot be a student id"
    if not name.strip():
        return "the folder name is blank"
    if printable(name) != name:
        return "the folder name contains control or invisible characters"
    if "\\" in name:
        return "the folder name contains a backslash"
    if any(char in name for char in GLOB_CHARACTERS):
        # nbgrader globs the folder it finds once more: such an id can never be recorded
        return "the folder name contains *, ?, [ or ], which nbgrader reads as a pattern"
    if name != name.strip():
        return "the folder name begins or ends with a space (nbgrader would strip it)"
    if name.startswith("."):
        return "the folder name starts with a dot (a hidden folder, not a student id)"
    if len(name) > MAX_ID_CHARS:
        return (
            f"the folder name is {len(name)} characters long; "
            f"nbgrader's student ids have at most {MAX_ID_CHARS}"
        )
    return None


def file_stem(name: str) -> str:
    """A file name (without suffix) for ``name``: unique, portable and at most 200 characters.

    Plain names are kept (``ada``, ``s-0042``); others are percent-encoded after a ``%``
    (``%5Ba%5D%2A`` for ``[a]*``), or hashed after a ``~`` when that is too long.
    """
    if _PLAIN_STEM.fullmatch(name):
        return name
    raw = name.encode("utf-8", "surrogateescape")
    quoted = "%" + urllib.parse.quote(raw, safe="").replace(".", "%2E")
    if len(quoted) <= _MAX_QUOTED_STEM:
        return quoted
    return "~" + hashlib.sha256(raw).hexdigest()


def nbgrader_pattern(student: str) -> str:
    """``student`` as nbgrader's glob-based ``student_id``: it matches that folder only."""
    return glob.escape(student)


def display(name: str) -> str:
    """``name`` as text that is safe anywhere: valid UTF-8, nothing a terminal would obey.

    A valid student id is its own display name; any other name gets escapes (``\\xe9`` for
    a byte that is not UTF-8, ``\\\\`` for a backslash), so two names never look alike.
    """
    return printable(name.replace("\\", "\\\\"))
