"""Driving JupyterLab 4 in headless Chromium as a person would: open, type, run, click.

Only what users see is used: URLs, visible text, toolbar buttons, cell editors and their
outputs. Cells are addressed by their position (``data-windowed-list-index``), found from
the notebook file's nbgrader ``grade_id``s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
from playwright.sync_api import Locator, Page, expect

from course_lib.grader import cells

KERNEL_READY = 180_000  # ms: a busy CI machine takes a while to start a kernel
CELL_DONE = 300_000  # ms: a cell that trains a model


@dataclass
class Lab:
    """A running ``course lab``: its address, token and course folder."""

    url: str
    token: str
    root: Path

    def address(self, path: str) -> str:
        """The URL of ``path`` on this server, with its token (a hub's servers have none)."""
        url = f"{self.url}/{path.lstrip('/')}"
        return f"{url}{'&' if '?' in path else '?'}token={self.token}" if self.token else url


class NotebookPage:
    """One notebook open in JupyterLab."""

    def __init__(self, page: Page, lab: Lab, path: str) -> None:
        self.page = page
        self.lab = lab
        self.path = path
        self.grade_ids = [
            cells.grade_id(c) for c in nbformat.read(lab.root / path, as_version=4).cells
        ]

    def open(self) -> NotebookPage:
        """Open the notebook; return once every cell is shown and its kernel is idle."""
        self.page.goto(self.lab.address(f"lab/tree/{self.path}"))
        return self.wait_loaded()

    def wait_loaded(self) -> NotebookPage:
        """Wait until the notebook (opened some way) shows every cell and its kernel is idle."""
        expect(self.panel.locator(".jp-Cell")).to_have_count(
            len(self.grade_ids), timeout=KERNEL_READY
        )
        expect(self.page.locator("#jp-main-statusbar")).to_contain_text(
            "| Idle", timeout=KERNEL_READY
        )
        self.wait_idle()
        return self

    @property
    def panel(self) -> Locator:
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")

    def cell(self, grade_id: str) -> Locator:
        index = self.grade_ids.index(grade_id)
        return self.panel.locator(f'.jp-Cell[data-windowed-list-index="{index}"]')

    def wait_idle(self, timeout: int = KERNEL_READY) -> None:
        expect(self.panel.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute(
            "data-status", "idle", timeout=timeout
        )

    def write(self, grade_id: str, code: str) -> None:
        """Replace the code of a cell, as typing it would."""
        editor = self.cell(grade_id).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.press("Delete")
        self.page.keyboard.insert_text(code)

    def run(self, grade_id: str, timeout: int = CELL_DONE) -> Locator:
        """Run one cell (Shift+Enter) and wait until it has finished; return the cell."""
        cell = self.cell(grade_id)
        cell.locator(".jp-InputArea-editor").click()
        self.page.keyboard.press("Shift+Enter")
        expect(cell.locator(".jp-InputArea-prompt")).to_have_text(
            re.compile(r"\[\d+\]:"), timeout=timeout
        )
        return cell

    def run_all(self, timeout: int = CELL_DONE * 4) -> None:
        """Run > Run All Cells, then wait until the kernel is idle again."""
        self.page.get_by_role("menuitem", name="Run", exact=True).click()
        self.page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        self.page.wait_for_timeout(1_000)
        last = self.panel.locator(".jp-CodeCell").last
        expect(last.locator(".jp-InputArea-prompt")).to_have_text(
            re.compile(r"\[\d+\]:"), timeout=timeout
        )
        self.wait_idle(timeout)

    def show(self, grade_id: str) -> Locator:
        """Scroll the cell to the middle of the window; return it."""
        cell = self.cell(grade_id)
        cell.evaluate("element => element.scrollIntoView({block: 'center'})")
        self.page.wait_for_timeout(300)
        return cell

    def output_text(self, grade_id: str) -> str:
        return self.cell(grade_id).locator(".jp-OutputArea").inner_text()

    def is_dirty(self) -> bool:
        """The tab shows the unsaved-changes dot."""
        return self.page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").count() > 0


def solutions(course, lesson: str) -> dict[str, str]:
    """Each answer cell's code as a student who got it right would write it."""
    return {
        cells.grade_id(cell): "\n".join(
            line
            for line in cells.source_text(cell).splitlines()
            if not line.strip().startswith(cells.SOLUTION)
        )
        for cell in course.source_notebook(lesson).cells
        if cells.is_answer(cell)
    }
