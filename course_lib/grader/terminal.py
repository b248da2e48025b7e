"""Text from a submission, made safe to show on the instructor's terminal.

Test messages, reasons, student ids and a cell's first line all come, at least in part, from
what a submission did. Printed raw, an escape sequence in them can erase lines, print a fake
``PASS … 10/10``, retitle the window or (on some terminals) answer back. Everything the kit
prints about a submission goes through :func:`printable` (tables, progress line, reasons) or
:func:`json_text` (``--json``): control characters, C1 codes, invisible bidirectional marks
and bytes that were not UTF-8 come out as visible ``\\x1b``/``\\u202e`` escapes.
"""

from __future__ import annotations

import json
import re

_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
_INVISIBLE = "\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
_SURROGATES = "\ud800-\udfff"
_UNSAFE = re.compile(f"[{_CONTROLS}{_INVISIBLE}{_SURROGATES}]")
_UNSAFE_LINE = re.compile(f"[\n{_CONTROLS}{_INVISIBLE}{_SURROGATES}]")
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f{_INVISIBLE}{_SURROGATES}]")


_NAMED = {"\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match) -> str:
    if match.group() in _NAMED:
        return _NAMED[match.group()]
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (os.fsdecode's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, *, multiline: bool = False) -> str:
    """``text`` with every control or invisible character shown as an escape.

    Newlines are kept only when ``multiline`` (a test message's own lines); tabs are kept.
    """
    pattern = _UNSAFE if multiline else _UNSAFE_LINE
    return pattern.sub(_escape, str(text))


def _json_escape(match: re.Match) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_text(value: object) -> str:
    """``json.dumps(value, ensure_ascii=False)`` that is also safe on a terminal.

    JSON already escapes C0 controls; C1 codes, invisible marks and lone surrogates are
    escaped too (``\\u009b``), so the text parses to exactly the same value.
    """
    return _UNSAFE_IN_JSON.sub(_json_escape, json.dumps(value, ensure_ascii=False))
