"""What course_lib does inside a Jupyter kernel, once, when a notebook first imports it.

* **TensorFlow starts quietly.** Importing TensorFlow writes absl/oneDNN/cpu_feature_guard
  lines straight to file descriptor 2, before it reads ``TF_CPP_MIN_LOG_LEVEL`` (measured:
  the oneDNN line and absl's preamble print at every level). ipykernel forwards that
  descriptor into the cell as a red stderr block, and a Validate that counts stderr as a
  failure would fail every notebook. So the first course_lib import in a kernel imports
  TensorFlow with descriptor 2 captured, and writes back every line that is not that
  start-up noise. Lesson setup cells import course_lib before Keras for this reason.
* **Executed cells are recorded by cell id** (JupyterLab sends the id of each cell it
  runs), so an in-notebook hidden test hands the grader the answer-cell code that actually
  ran, as ``course grade`` does (:func:`executed_cells`).

Outside a Jupyter kernel (graders, the ``course`` command, plain Python) nothing happens.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

_STARTUP_NOISE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|I\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] "  # absl INFO lines (oneDNN, cpu_feature_guard)
    r"|To enable the following instructions: .* rebuild TensorFlow"
)

_executed: dict[str, str] = {}
_installed = False


def is_startup_noise(line: str) -> bool:
    """Whether a line on stderr is TensorFlow's start-up log, not a message for the reader."""
    return bool(_STARTUP_NOISE.match(line.strip()))


def _kernel_shell():
    """The running IPython kernel's shell, or None outside a Jupyter kernel."""
    if "ipykernel" not in sys.modules or "IPython" not in sys.modules:
        return None
    shell = sys.modules["IPython"].get_ipython()
    return shell if shell is not None and hasattr(shell, "kernel") else None


@contextlib.contextmanager
def _descriptor_2_filtered() -> Iterator[None]:
    """Inside, descriptor 2 goes to a temporary file; after, its lines that are not start-up
    noise go to ``sys.stderr`` (also when the body failed)."""
    with tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", errors="replace")
            kept = [line for line in text.splitlines(keepends=True) if not is_startup_noise(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with its start-up log on descriptor 2 filtered out."""
    if "tensorflow" in sys.modules:
        return
    try:
        with _descriptor_2_filtered():
            importlib.import_module("tensorflow")
    except OSError:  # no writable temporary folder: import as usual
        importlib.import_module("tensorflow")


def _record(info) -> None:
    cell_id = getattr(info, "cell_id", None)
    if cell_id:
        _executed[str(cell_id)] = str(info.raw_cell)


def executed_cells() -> dict[str, str]:
    """The code each cell last ran with, by cell id (empty outside a Jupyter kernel)."""
    return dict(_executed)


def setup() -> None:
    """Quiet TensorFlow and start recording executed cells, if this is a Jupyter kernel."""
    global _installed
    shell = _kernel_shell()
    if shell is None or _installed:
        return
    _installed = True
    shell.events.register("pre_run_cell", _record)
    import_tensorflow_quietly()
