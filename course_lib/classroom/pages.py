"""What the instructor's HTML pages share: a Jinja2 environment with autoescape, safe
images and sanitised markdown.

Every string that reaches a page is escaped by the template unless it went through
:func:`markdown_html` (rendered, then sanitised with an allowlist) or is image data that
:func:`image_data` decoded and recognised as PNG or JPEG. Pages load nothing from the
network: no CDN, no MathJax (formulas stay as their ``$…$`` source).
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import cache

import bleach
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

IMAGE_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
MAX_IMAGE_BYTES = 5 * 2**20

_MARKDOWN_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_MARKDOWN_ATTRIBUTES = {"a": ["href", "title"], "abbr": ["title"], "th": ["align"], "td": ["align"]}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@cache
def _markdown():
    import mistune

    return mistune.create_markdown(escape=False, plugins=["strikethrough", "table"])


@cache
def environment() -> Environment:
    """The templates in ``course_lib/classroom/templates``, autoescaped."""
    env = Environment(
        loader=PackageLoader("course_lib.classroom", "templates"),
        autoescape=True,
        finalize=_printable,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["points"] = lambda value: f"{float(value or 0):g}"
    return env


def _printable(value):
    """Every value a template prints, without ANSI sequences or control bytes."""
    if isinstance(value, Markup):
        return Markup(_CONTROL.sub("", str(value)))  # already safe HTML: keep it so
    if isinstance(value, str):
        return plain_text(value)
    return value


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)


def plain_text(value) -> str:
    """Text as a terminal would show it: lists joined, ANSI colours and control bytes removed."""
    text = "".join(value) if isinstance(value, list) else str(value)
    return _CONTROL.sub("", _ANSI.sub("", text))


def image_data(mime: str, value) -> str | None:
    """Canonical base64 of a PNG or JPEG image, or None if ``value`` is anything else."""
    magic = IMAGE_MAGIC.get(mime)
    if magic is None:
        return None
    compact = re.sub(r"\s+", "", "".join(value) if isinstance(value, list) else str(value))
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not raw.startswith(magic) or len(raw) > MAX_IMAGE_BYTES:
        return None
    return base64.b64encode(raw).decode("ascii")


def markdown_html(text: str) -> Markup:
    """Markdown rendered to HTML, then reduced to an allowlist of harmless tags."""
    rendered = _markdown()(text)
    clean = bleach.clean(
        rendered,
        tags=_MARKDOWN_TAGS,
        attributes=_MARKDOWN_ATTRIBUTES,
        protocols={"http", "https", "mailto"},
        strip=True,
        strip_comments=True,
    )
    return Markup(clean)  # sanitised just above: safe to insert
