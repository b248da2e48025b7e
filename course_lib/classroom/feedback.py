"""Per-student feedback HTML from a batch's stored results.

``feedback/<student>/<lesson>/<lesson>.html`` (where ``nbgrader generate_feedback`` puts
its own): the score, every test's points and teaching message, and the student's notebook
with its outputs and plots. A grade cell is shown only as its verdict, never its code, and
any hidden-test region left in another cell is cut out.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from course_lib.classroom.store import ResultStore, SubmissionResult, write_atomically
from course_lib.grader import cells

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_LOG_NOISE = re.compile(r"^(WARNING: All log messages|[IWE]\d{4} \d\d:\d\d:)")

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; white-space: pre-wrap; }
pre.error { background: #fdecea; }
.md { white-space: pre-wrap; margin: 1rem 0; }
.test { border-left: 4px solid; padding: .3rem .8rem; margin: 1rem 0; }
.pass { border-color: #2e7d32; } .fail { border-color: #c62828; }
table { border-collapse: collapse; } td, th { padding: .2rem .6rem; border-bottom: 1px solid #ddd;
  text-align: left; vertical-align: top; }
img { max-width: 100%; }
"""


def _text(value) -> str:
    return _ANSI.sub("", "".join(value) if isinstance(value, list) else str(value))


def _pre(text: str, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f"<pre{cls}>{html.escape(text)}</pre>"


def _output(output: dict) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        lines = _text(output.get("text", "")).splitlines(keepends=True)
        text = "".join(line for line in lines if not _LOG_NOISE.match(line))
        return _pre(text) if text.strip() else ""
    if kind == "error":
        return _pre(f"{output.get('ename')}: {_text(output.get('evalue', ''))}", "error")
    data = output.get("data", {})
    if "image/png" in data:
        png = html.escape(_text(data["image/png"]).replace("\n", ""))
        return f'<img alt="plot" src="data:image/png;base64,{png}">'
    if "text/plain" in data:
        return _pre(_text(data["text/plain"]))
    return ""


def _test_box(test: dict) -> str:
    mark, css = ("✔ passed", "pass") if test["passed"] else ("✘ failed", "fail")
    return (
        f'<div class="test {css}"><b>Test {html.escape(test["id"])}</b>: {mark}, '
        f"{test['points']:g} / {test['max_points']:g} points{_pre(test['message'])}</div>"
    )


def _cells(notebook: dict, tests: dict[str, dict]) -> list[str]:
    parts = []
    for cell in notebook.get("cells", []):
        source = cells.without_hidden_tests(_text(cell.get("source", "")))
        if cells.is_test(cell):
            test = tests.get(cells.grade_id(cell))
            parts.append(_test_box(test) if test else "")
        elif cell.get("cell_type") == "markdown":
            parts.append(f'<div class="md">{html.escape(source)}</div>')
        elif cell.get("cell_type") == "code":
            parts.append(_pre(source))
            parts.extend(_output(o) for o in cell.get("outputs", []))
    return parts


def render(result: SubmissionResult, notebook: dict | None) -> str:
    """One student's feedback page."""
    report = result.report
    tests = {t.id: t.as_json() for t in report.tests}
    title = f"{result.lesson} — {result.student}"
    status = result.status + (f": {result.reason}" if result.reason else "")
    rows = "".join(
        f"<tr><td>{html.escape(t.id)}</td><td>{t.points:g} / {t.max_points:g}</td>"
        f"<td>{html.escape(t.message.splitlines()[0] if t.message else '')}</td></tr>"
        for t in report.tests
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.tampering + report.incidents)
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p><b>Score: {report.score:g} / {report.max_score:g}</b> ({html.escape(status)})</p>",
        f"<table><tr><th>test</th><th>points</th><th>message</th></tr>{rows}</table>",
        f"<h2>Notes</h2><ul>{notes}</ul>" if notes else "",
        "<h2>Your notebook, as graded</h2>" if notebook else "",
        *(_cells(notebook, tests) if notebook else []),
    ]
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>"
    )


def write_feedback(course_root: Path, lesson: str) -> list[Path]:
    """Write every graded student's feedback page for ``lesson``; return the paths."""
    store = ResultStore(course_root, lesson)
    written = []
    for student, result in store.all().items():
        notebook = store.notebook(student)
        target = Path(course_root) / "feedback" / student / lesson / f"{lesson}.html"
        write_atomically(target, render(result, notebook))
        written.append(target)
    return written
