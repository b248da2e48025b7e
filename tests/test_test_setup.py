"""Does the runner honour `xdist_group`? Slow modules build class fixtures once per group."""

from __future__ import annotations

import subprocess
import sys
import textwrap

GROUPED_MODULE = textwrap.dedent(
    """
    import os
    import pytest

    pytestmark = pytest.mark.xdist_group("one-worker")

    @pytest.mark.parametrize("i", range(6))
    def test_reports_its_worker(i):
        print("worker", os.environ["PYTEST_XDIST_WORKER"])
    """
)


def test_tests_of_one_xdist_group_run_on_one_worker(tmp_path):
    (tmp_path / "test_grouped.py").write_text(GROUPED_MODULE)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "--dist",
            "loadgroup",
            "-v",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    workers = {line.split("]")[0] for line in run.stdout.splitlines() if "PASSED" in line}
    assert len(workers) == 1, f"one group ran on {sorted(workers)}: pin a pytest xdist supports"
