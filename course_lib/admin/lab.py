"""``course lab``: JupyterLab on the course folder, ready for nbgrader on one machine.

* the environment's ``bin`` first on ``PATH`` (formgrader runs ``alembic`` to create
  ``gradebook.db``; kernels find this environment's Python), however the command was
  started;
* the server rooted at the course folder, on 127.0.0.1, with the course's
  ``nbgrader_config.py`` on Jupyter's config path, so formgrader finds the course and the
  Assignment List finds the course-local exchange from any folder;
* the exchange folder created, as nbgrader's ``release_assignment`` would (mode 0777),
  and the folder students fetch into, so the Assignment List works before the first
  release;
* JupyterLab's news and update checks off (``lab_settings/overrides.json``): a lab for a
  course, often offline, has no use for them.

The notebooks' metadata is what a kernel fills in (``course release`` writes it), so
opening a notebook does not mark it modified.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from course_lib.admin.release import venv_env
from course_lib.grader.course import Course

SETTINGS = Path(__file__).with_name("lab_settings")
EXCHANGE_MODE = 0o777


def exchange_folders(course: Course) -> tuple[Path, Path]:
    """The exchange and the students' assignment folder ``nbgrader_config.py`` names."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course.root)).load_config()
    exchange = config.get("Exchange", {})
    root = Path(exchange.get("root") or course.root / "exchange")
    assignments = Path(exchange.get("assignment_dir") or course.root)
    return root, assignments if assignments.is_absolute() else course.root / assignments


def prepare_exchange(course: Course) -> Path:
    """Create the exchange (writable by every user, as nbgrader makes it) and the folder
    students fetch into, if missing; return the exchange."""
    root, assignments = exchange_folders(course)
    if not root.is_dir():
        root.mkdir(parents=True)
        os.chmod(root, EXCHANGE_MODE)
    assignments.mkdir(parents=True, exist_ok=True)
    return root


def lab_command(course: Course, *, port: int, open_browser: bool, extra: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={course.root}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        f"--ServerApp.open_browser={open_browser}",
        f"--LabApp.app_settings_dir={SETTINGS}",
        *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        *extra,
    ]


def lab_env(course: Course) -> dict[str, str]:
    """This environment's scripts first on PATH, and the course's nbgrader_config.py on
    Jupyter's config path: nbgrader reads it from any folder (the Assignment List reads its
    config again in the folder students fetch into)."""
    env = venv_env()
    env["COURSE_DIR"] = str(course.root)
    paths = [str(course.root), *filter(None, env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep))]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(paths)
    return env


def run_lab(course: Course, *, port: int = 8888, open_browser: bool = True, extra=()) -> None:
    """Become JupyterLab on the course folder (this process is replaced: signals reach it)."""
    prepare_exchange(course)
    command = lab_command(course, port=port, open_browser=open_browser, extra=list(extra))
    os.chdir(course.root)
    os.execve(sys.executable, command, lab_env(course))
