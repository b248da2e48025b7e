"""Feedback pages: one exporter for ``course feedback`` and ``nbgrader generate_feedback``.

``nbgrader_config.py`` makes :class:`FeedbackExporter` nbgrader's feedback exporter, with
:data:`PREPROCESSORS`; ``course feedback LESSON`` runs nbgrader's own ``GenerateFeedback``
with that configuration (:func:`write_feedback`). So both write
``feedback/<student>/<lesson>/<lesson>.html`` with one layout: the score (the gradebook's,
with the instructor's manual grades and comments), every test's points and teaching
message, notes on tampering or a stopped run, then the notebook as graded — markdown
rendered, the student's code, outputs and plots. A grade cell appears only as its
verdict, never as code. A submission nbgrader cannot read (a damaged file) gets the same
page without a notebook, saying why.

Every string from the submission is escaped by the template (Jinja2, autoescape); images
are shown only when they decode as PNG or JPEG; HTML, SVG and script outputs are shown as
their plain-text form; nothing is loaded from the network.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from nbconvert.exporters import Exporter
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode, default

from course_lib.classroom import pages
from course_lib.classroom.store import ResultStore, SubmissionResult, write_atomically
from course_lib.grader import cells
from course_lib.grader.report import Status

PREPROCESSORS = [
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.GetGrades",
    "course_lib.classroom.feedback.GradingNotes",
]
"""nbgrader's ``GenerateFeedback.preprocessors`` for this course (nbgrader_config.py)."""

MAX_OUTPUT_CHARS = 20_000
MAX_TRACEBACK_LINES = 30
PASS_MARK = "✔ "
_LOG_NOISE = ("WARNING: All log messages before absl::", "To enable the following instructions")


@dataclass
class OutputView:
    kind: str  # "text", "error" or "image"
    text: str = ""
    mime: str = ""
    data: str = ""


@dataclass
class TestView:
    __test__ = False  # not a pytest test class

    id: str
    score: float
    points: float
    passed: bool
    message: str


@dataclass
class CellView:
    kind: str  # "markdown", "code" or "test"
    source: str = ""
    html: str = ""
    outputs: list[OutputView] = field(default_factory=list)
    test: TestView | None = None
    comment: str = ""


def _is_log_noise(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(_LOG_NOISE) or (
        len(stripped) > 6 and stripped[0] in "IWE" and stripped[1:5].isdigit() and "] " in stripped
    )


def _clip(text: str) -> str:
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return text[:MAX_OUTPUT_CHARS] + f"\n… ({len(text) - MAX_OUTPUT_CHARS:,} more characters)"


def output_view(output: dict) -> OutputView | None:
    """One output as the page shows it (None: nothing worth showing)."""
    kind = output.get("output_type")
    if kind == "stream":
        lines = pages.plain_text(output.get("text", "")).splitlines(keepends=True)
        text = "".join(line for line in lines if not _is_log_noise(line))
        return OutputView("text", _clip(text)) if text.strip() else None
    if kind == "error":
        traceback = [pages.plain_text(line) for line in output.get("traceback") or []]
        summary = f"{output.get('ename', '')}: {output.get('evalue', '')}"
        text = "\n".join(traceback[-MAX_TRACEBACK_LINES:]) or pages.plain_text(summary)
        return OutputView("error", _clip(text))
    data = output.get("data") or {}
    for mime in pages.IMAGE_MAGIC:
        if mime in data:
            image = pages.image_data(mime, data[mime])
            if image is not None:
                return OutputView("image", mime=mime, data=image)
    if "text/plain" in data:
        return OutputView("text", _clip(pages.plain_text(data["text/plain"])))
    return None


def _merged(outputs: list[OutputView]) -> list[OutputView]:
    """Consecutive text outputs as one block (a model summary prints in many pieces)."""
    merged: list[OutputView] = []
    for output in outputs:
        if merged and output.kind == merged[-1].kind == "text":
            merged[-1] = OutputView("text", merged[-1].text + output.text)
        else:
            merged.append(output)
    return merged


def _verdict(cell) -> TestView:
    meta = cells.nbgrader_meta(cell)
    error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
    if error is not None:
        message = "\n".join(pages.plain_text(line) for line in error.get("traceback") or [])
        message = message or pages.plain_text(error.get("evalue", ""))
    else:
        streams = [o for o in cell.get("outputs", []) if o.get("output_type") == "stream"]
        message = "".join(pages.plain_text(o.get("text", "")) for o in streams).strip()
        message = message.removeprefix(PASS_MARK) or "passed"
    points = float(meta.get("points") or 0)
    score = meta.get("score")
    score = float(score) if score is not None else (0.0 if error is not None else points)
    return TestView(cells.grade_id(cell) or "?", score, points, score >= points, message.strip())


def cell_views(notebook: dict) -> list[CellView]:
    """The notebook's cells as the page shows them (grade cells as verdicts only)."""
    views = []
    for cell in notebook.get("cells", []):
        source = cells.without_hidden_tests(cells.source_text(cell))
        comment = str(cells.nbgrader_meta(cell).get("comment") or "")
        if cells.is_test(cell):
            views.append(CellView("test", test=_verdict(cell), comment=comment))
        elif cell.get("cell_type") == "markdown":
            views.append(CellView("markdown", html=pages.markdown_html(source), comment=comment))
        elif cell.get("cell_type") == "code":
            outputs = _merged([view for o in cell.get("outputs", []) if (view := output_view(o))])
            views.append(CellView("code", source=source, outputs=outputs, comment=comment))
    return views


def render_page(
    *,
    lesson: str,
    student: str,
    score: float,
    max_score: float,
    tests: list[TestView],
    cell_list: list[CellView],
    result: SubmissionResult | None,
    late_penalty: float = 0.0,
) -> str:
    """The feedback page (the one layout for every path that writes one)."""
    status = result.status if result is not None else Status.GRADED
    notes = []
    if result is not None:
        notes = [f"changed by you, restored for grading: {t}" for t in result.report.tampering]
        notes += list(result.report.incidents)
    return pages.render(
        "feedback.html.j2",
        lesson=lesson,
        student=student,
        score=score,
        max_score=max_score,
        late_penalty=late_penalty,
        status=str(status),
        reason=(result.reason if result is not None else None) or "",
        graded=status is Status.GRADED,
        tests=tests,
        notes=notes,
        cells=cell_list,
    )


class GradingNotes(NbGraderPreprocessor):
    """Adds what ``course grade --all`` stored about the submission (status, tampering, notes)."""

    course_root = Unicode("", help="The course folder whose .course/results to read.").tag(
        config=True
    )

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        if self.course_root and info.get("student") and info.get("assignment"):
            store = ResultStore(Path(self.course_root), info["assignment"])
            resources["course_result"] = store.load(info["student"])
        return nb, resources


class FeedbackExporter(Exporter):
    """nbgrader's feedback exporter for this course: the notebook as one feedback page."""

    output_mimetype = "text/html"

    @default("file_extension")
    def _file_extension_default(self):
        return ".html"

    def from_notebook_node(self, nb, resources=None, **kw):
        notebook, resources = super().from_notebook_node(nb, resources, **kw)
        info = resources.get("nbgrader", {})
        views = cell_views(notebook)
        tests = [view.test for view in views if view.test is not None]
        page = render_page(
            lesson=str(info.get("assignment") or info.get("notebook") or ""),
            student=str(info.get("student") or ""),
            score=float(info.get("score", sum(t.score for t in tests))),
            max_score=float(info.get("max_score", sum(t.points for t in tests))),
            late_penalty=float(info.get("late_penalty") or 0),
            tests=tests,
            cell_list=views,
            result=resources.get("course_result"),
        )
        return page, resources


def page_without_notebook(result: SubmissionResult) -> str:
    """The page of a submission nbgrader could not read: why, and every test's outcome."""
    tests = [
        TestView(test.id, test.points, test.max_points, test.passed, test.message)
        for test in result.report.tests
    ]
    return render_page(
        lesson=result.lesson,
        student=result.student,
        score=result.score,
        max_score=result.max_score,
        tests=tests,
        cell_list=[],
        result=result,
    )


@dataclass
class FeedbackRun:
    written: list[Path] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    """Students without a page, and why."""


def write_feedback(course_root: Path, lesson: str) -> FeedbackRun:
    """Every graded student's page for ``lesson``: nbgrader's ``generate_feedback`` with the
    course's configuration, plus pages for submissions nbgrader could not read."""
    from nbgrader.converters import GenerateFeedback
    from nbgrader.converters.base import NbGraderException
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    course_root = Path(course_root).resolve()
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()
    config.CourseDirectory.root = str(course_root)
    config.CourseDirectory.assignment_id = lesson
    config.BaseConverter.force = True
    log = logging.getLogger("course.feedback")
    log.propagate = False
    log.handlers = [logging.NullHandler()]
    run = FeedbackRun()
    autograded = {p.parent.parent.name for p in course_root.glob(f"autograded/*/{lesson}/*.ipynb")}
    if autograded:
        converter = GenerateFeedback(
            coursedir=CourseDirectory(config=config), config=config, log=log
        )
        # the pages it could write are written; the others are reported below
        with contextlib.suppress(NbGraderException):
            converter.start()
    results = ResultStore(course_root, lesson).all()
    for student in sorted(set(results) | autograded):
        target = course_root / "feedback" / student / lesson / f"{lesson}.html"
        result = results.get(student)
        if student in autograded and target.is_file():
            run.written.append(target)
        elif result is not None and result.status is Status.ERROR:
            run.skipped[student] = f"not graded (a fault of the kit: {result.reason}): regrade it"
        elif result is not None and student not in autograded:
            write_atomically(target, page_without_notebook(result))
            run.written.append(target)
        else:
            run.skipped[student] = "nbgrader could not write its feedback"
    return run
