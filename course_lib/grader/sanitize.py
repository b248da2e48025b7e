"""A submission's outputs and cells, made safe to show anywhere they are shown.

The executed notebook travels from the grader to ``.course/results/``, ``autograded/`` (where
formgrader renders it on the Jupyter server's own origin), feedback pages and nbgrader's
feedback. Everything in it that the student's code produced passes through here first, on
the grader's side, so that no viewer has to be careful:

* outputs keep only ``text/plain`` and validated ``image/png``/``image/jpeg`` (base64 that
  decodes to the format's magic bytes); ``text/html`` is cleaned by an HTML sanitiser
  (nh3: no scripts, event handlers, frames, styles or remote images), ``text/markdown``
  is rendered to HTML and cleaned the same way, ``image/svg+xml`` is shown only as an
  ``<img>`` (where SVG scripts never run); JavaScript, widgets and every other type go;
* output metadata keeps only numeric image sizes;
* every cell's outputs are capped: text at ``max_chars`` per cell, images at
  :data:`MAX_IMAGE_CHARS` per cell, the rest replaced by a note saying what was cut;
* cells that the student added as markdown or raw text (not in the instructor's source)
  are shown as plain text, never rendered.
"""

from __future__ import annotations

import base64
import binascii
import re

import nbformat
import nh3

MAX_IMAGE_CHARS = 2_000_000
"""Base64 image data kept per cell (a matplotlib figure is 20–100 kB)."""

TEXT_TYPES = ("text/plain",)
IMAGE_MAGIC = {"image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",)}
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|svg\+xml);base64,[A-Za-z0-9+/=\s]*")
_HTML_TAGS = nh3.ALLOWED_TAGS - {"area", "map"}
_HTML_ATTRIBUTES = {
    **{tag: set(attributes) for tag, attributes in nh3.ALLOWED_ATTRIBUTES.items()},
    "img": {"alt", "src", "width", "height"},
    "*": {"title", "class"},
}


def _keep_attribute(element: str, attribute: str, value: str) -> str | None:
    """Images only from inline data of an image type (never a remote address)."""
    if element == "img" and attribute == "src":
        return value if _DATA_IMAGE.fullmatch(value) else None
    return value


def clean_html(html: str) -> str:
    """HTML without scripts, event handlers, styles, frames, forms or remote images."""
    return nh3.clean(
        html,
        tags=_HTML_TAGS,
        attributes=_HTML_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "data"},
        attribute_filter=_keep_attribute,
        link_rel="noopener noreferrer nofollow",
    )


def _markdown_html(markdown: str) -> str:
    from nbconvert.filters.markdown import markdown2html_mistune

    return clean_html(markdown2html_mistune(markdown))


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _valid_image(mime: str, text: str) -> str | None:
    """``text`` if it is the base64 of a real PNG/JPEG (by its first bytes), else None."""
    try:
        head = base64.b64decode(text[:64], validate=True)
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return text if head.startswith(IMAGE_MAGIC[mime]) else None


def _svg_as_image(svg: str) -> str:
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img alt="SVG image" src="data:image/svg+xml;base64,{encoded}">'


def _safe_metadata(metadata: dict, kept: dict) -> dict:
    """Numeric width/height of kept images; nothing else (no ``isolated``, no strings)."""
    safe = {}
    for mime in kept:
        entry = metadata.get(mime) if isinstance(metadata, dict) else None
        if mime.startswith("image/") and isinstance(entry, dict):
            sizes = {
                key: entry[key]
                for key in ("width", "height")
                if isinstance(entry.get(key), int | float) and not isinstance(entry[key], bool)
            }
            if sizes:
                safe[mime] = sizes
    return safe


class _Budget:
    """What is left of one cell's allowance for text and for images."""

    def __init__(self, max_chars: int) -> None:
        self.text = max_chars
        self.images = MAX_IMAGE_CHARS

    def take_text(self, text: str) -> str:
        if len(text) <= self.text:
            self.text -= len(text)
            return text
        kept, cut = text[: max(self.text, 0)], len(text) - max(self.text, 0)
        self.text = 0
        return f"{kept}\n… [{cut:,} more characters not kept]\n"

    def fits_text(self, text: str) -> bool:
        if len(text) <= self.text:
            self.text -= len(text)
            return True
        return False

    def fits_image(self, data: str) -> bool:
        if len(data) <= self.images:
            self.images -= len(data)
            return True
        return False


def _rich(output, budget: _Budget):
    """A display_data/execute_result output with only safe, capped representations."""
    data = output.get("data") or {}
    kept: dict[str, str] = {}
    dropped: list[str] = []
    for mime, value in data.items():
        if mime in IMAGE_MAGIC:
            image = re.sub(r"\s", "", _text(value))
            if not budget.fits_image(image):
                dropped.append(f"{mime} ({len(image):,} characters)")
            elif _valid_image(mime, image) is None:
                dropped.append(f"{mime} (not a valid image)")
            else:
                kept[mime] = image
        elif mime == "image/svg+xml":
            svg = _text(value)
            if budget.fits_image(svg):
                kept["text/html"] = _svg_as_image(svg)
            else:
                dropped.append(f"{mime} ({len(svg):,} characters)")
        elif mime in ("text/html", "text/markdown") and "text/html" not in kept:
            source = _text(value)
            if budget.fits_text(source):
                kept["text/html"] = (
                    clean_html(source) if mime == "text/html" else _markdown_html(source)
                )
            else:
                dropped.append(f"{mime} ({len(source):,} characters)")
        elif mime not in TEXT_TYPES:
            dropped.append(mime)
    plain = data.get("text/plain")
    if plain is not None:
        kept["text/plain"] = budget.take_text(_text(plain))
    elif not kept and dropped:
        kept["text/plain"] = f"[output not kept: {', '.join(dropped)}]"
    if not kept:
        return None
    fields = {"data": kept, "metadata": _safe_metadata(output.get("metadata") or {}, kept)}
    if output.get("output_type") == "execute_result":
        return nbformat.v4.new_output(
            "execute_result", execution_count=output.get("execution_count"), **fields
        )
    return nbformat.v4.new_output("display_data", **fields)


def _error(output, budget: _Budget):
    traceback = [_text(line) for line in output.get("traceback") or []]
    lines = []
    for index, line in enumerate(traceback):
        if not budget.fits_text(line):
            lines.append(f"… [{len(traceback) - index} more traceback lines not kept]")
            break
        lines.append(line)
    return nbformat.v4.new_output(
        "error",
        ename=_text(output.get("ename", ""))[:200],
        evalue=budget.take_text(_text(output.get("evalue", ""))[:10_000]),
        traceback=lines,
    )


def clean_outputs(outputs: list, max_chars: int) -> list:
    """``outputs`` with only safe representations, within the per-cell allowances."""
    budget = _Budget(max_chars)
    cleaned = []
    for output in outputs or []:
        kind = output.get("output_type")
        if kind == "stream":
            name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
            text = budget.take_text(_text(output.get("text", "")))
            cleaned.append(nbformat.v4.new_output("stream", name=name, text=text))
        elif kind in ("display_data", "execute_result"):
            rich = _rich(output, budget)
            if rich is not None:
                cleaned.append(rich)
        elif kind == "error":
            cleaned.append(_error(output, budget))
    return cleaned


def clean_cell_outputs(cell, max_chars: int) -> None:
    """Clean one code cell's outputs in place (as soon as the cell has run)."""
    if cell.get("cell_type") == "code":
        cell.outputs = clean_outputs(cell.get("outputs", []), max_chars)


def clean_notebook(notebook, max_chars: int) -> None:
    """Clean every code cell's outputs in place; drop widget state the kernel left."""
    for cell in notebook.cells:
        clean_cell_outputs(cell, max_chars)
    notebook.metadata.pop("widgets", None)


def plain_text_cell(cell) -> nbformat.NotebookNode:
    """A markdown or raw cell of the student's own, as a markdown cell that shows its text.

    The text goes in a fenced code block longer than any run of backticks in it, so no
    renderer turns it into HTML, links or images; its attachments are dropped.
    """
    text = _text(cell.get("source", ""))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    neutral = nbformat.v4.new_markdown_cell(f"{fence}text\n{text}\n{fence}")
    if cell.get("id"):
        neutral["id"] = cell["id"]
    return neutral
