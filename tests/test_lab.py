"""Does `course lab` start JupyterLab ready for nbgrader on one machine, however it is run?"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from course_lib.admin import lab

from .conftest import ROOT, copy_course

VENV_BIN = str(Path(sys.executable).parent)


def test_nbgrader_finds_alembic_even_from_an_unactivated_venv():
    """Formgrader started as `.venv/bin/jupyter lab` failed with FileNotFoundError: 'alembic'."""
    code = (
        "import shutil\n"
        "from traitlets.config.loader import PyFileConfigLoader\n"
        f"PyFileConfigLoader('nbgrader_config.py', path={str(ROOT)!r}).load_config()\n"
        "print(shutil.which('alembic'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == os.path.join(VENV_BIN, "alembic")


def test_the_exchange_and_the_students_folder_are_made_as_nbgrader_expects(tmp_path):
    course = copy_course(tmp_path)
    exchange = lab.prepare_exchange(course)
    assert exchange == course.root / "exchange"
    assert stat.S_IMODE(exchange.stat().st_mode) == 0o777
    assert (course.root / "student").is_dir()
    assert lab.prepare_exchange(course) == exchange  # a second start changes nothing


def test_the_lab_runs_on_the_course_with_its_config_everywhere(tmp_path, monkeypatch):
    course = copy_course(tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", "/elsewhere")
    env = lab.lab_env(course)
    assert env["PATH"].split(os.pathsep)[0] == VENV_BIN
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(course.root), "/elsewhere"]
    command = lab.lab_command(course, port=9999, open_browser=False, extra=["--x=1"])
    assert f"--ServerApp.root_dir={course.root}" in command
    assert "--ServerApp.ip=127.0.0.1" in command and "--ServerApp.port=9999" in command
    assert command[-1] == "--x=1"
    settings = next(a for a in command if a.startswith("--LabApp.app_settings_dir="))
    assert (Path(settings.split("=", 1)[1]) / "overrides.json").is_file()
