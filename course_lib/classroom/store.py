"""Per-submission batch results on disk, written atomically the moment each one is graded.

``.course/results/<lesson>/<student>.json`` holds the status, the report and the SHA-256
of the submitted file; ``<student>.ipynb`` beside it is the executed notebook with the
verdicts. A result whose fingerprint matches the submission is final: a resumed batch
skips it, a changed resubmission is graded again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def fingerprint(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


class ResultStore:
    """The results of one lesson's batch, one file per student."""

    def __init__(self, course_root: Path, lesson: str) -> None:
        self.folder = Path(course_root) / ".course" / "results" / lesson

    def path(self, student: str) -> Path:
        return self.folder / f"{student}.json"

    def notebook_path(self, student: str) -> Path:
        return self.folder / f"{student}.ipynb"

    def load(self, student: str) -> dict | None:
        try:
            return json.loads(self.path(student).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def current(self, student: str, sha256: str) -> dict | None:
        """The stored result if it was graded from exactly this submission."""
        result = self.load(student)
        return result if result and result.get("fingerprint") == sha256 else None

    def save(self, student: str, result: dict) -> None:
        """Store ``result`` (a dict of plain JSON values)."""
        write_atomically(self.path(student), json.dumps(result, ensure_ascii=False, indent=1))

    def save_notebook(self, student: str, notebook: dict | None) -> None:
        """Store the graded notebook of ``student`` (``None`` removes a stale one)."""
        if notebook is None:
            self.notebook_path(student).unlink(missing_ok=True)
        else:
            write_atomically(self.notebook_path(student), json.dumps(notebook, ensure_ascii=False))

    def all(self) -> dict[str, dict]:
        """Every stored result of the lesson, by student."""
        results = {}
        for path in sorted(self.folder.glob("*.json")):
            result = self.load(path.stem)
            if result is not None:
                results[path.stem] = result
        return results
