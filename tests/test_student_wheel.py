"""Does the students' wheel carry the student library and nothing of the graders or solutions,
and does a release notebook run with it in a fresh environment?"""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_lib.admin.student_wheel import StudentBundle, check_wheel
from course_lib.grader import cells

LESSON = "01_regression"
WRONG_OUTPUT_LAYER = (
    'model = keras.Sequential([keras.Input(shape=(n_features,)), layers.Dense(1, "relu")])'
)


@pytest.fixture(scope="module")
def bundle(course, tmp_path_factory):
    """`course build-student`, as `make student-wheel` runs it (into a folder of the test's)."""
    out = tmp_path_factory.mktemp("dist") / "student"
    done = subprocess.run(
        [sys.executable, "-m", "course_lib.cli", "build-student", "--out", str(out)],
        cwd=course.root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = out.glob("*.whl")
    return StudentBundle(wheel, out / "requirements.txt")


def test_the_wheel_holds_the_student_library_only(course, bundle):
    names = zipfile.ZipFile(bundle.wheel).namelist()
    code = {n for n in names if ".dist-info/" not in n}
    assert "course_lib/checks.py" in code and "course_lib/admin/datasets.py" in code
    assert not [n for n in code if re.search(r"grader/|classroom/|autograder|\.ipynb|test_", n)]
    assert check_wheel(course, bundle.wheel) == []


def test_a_wheel_with_lesson_code_in_it_is_refused(course, tmp_path):
    source = course.source_notebook(LESSON)
    answer = next(c for c in source.cells if cells.grade_id(c) == "part_a_answer")
    solution_line = cells.split_region(answer.source, cells.SOLUTION)[0][0]
    fake = tmp_path / "fake.whl"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("course_lib/checks.py", f"# helpful\n{solution_line}\n")
        archive.writestr("course_lib/grader/verdict.py", "")
    problems = check_wheel(course, fake)
    assert f"course_lib/checks.py: contains lesson code {solution_line.strip()!r}" in problems
    assert "course_lib/grader/verdict.py: not part of the student library" in problems


def test_requirements_pin_a_whole_student_environment(bundle):
    lines = [
        line for line in bundle.requirements.read_text().splitlines() if not line.startswith("#")
    ]
    assert all(re.fullmatch(r"[a-z0-9._-]+==[^=\s]+", line) for line in lines), lines
    names = {line.split("==")[0] for line in lines}
    assert {"tensorflow-cpu", "keras", "numpy", "jupyterlab", "nbgrader", "ipykernel"} <= names
    assert f"pip install -r requirements.txt {bundle.wheel.name}" in bundle.requirements.read_text()


@pytest.fixture(scope="module")
def student_venv(bundle, tmp_path_factory):
    """A fresh venv with only the student wheel installed (--no-deps). Its third-party
    packages are this environment's, borrowed through a .pth file so the test needs no
    network; the course's own editable install is not (its finder is not run from there)."""
    venv = tmp_path_factory.mktemp("student") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "borrowed-from-the-course-venv.pth").write_text(sysconfig.get_path("purelib"))
    install = ["install", "--quiet", "--no-deps", "--no-index", str(bundle.wheel)]
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), *install], check=True)
    return venv


def test_the_student_venv_imports_the_wheel_and_no_grader(student_venv):
    python = student_venv / "bin" / "python"
    done = subprocess.run(
        [
            str(python),
            "-I",
            "-c",
            "import course_lib, importlib.util; print(course_lib.__file__); "
            "print(importlib.util.find_spec('course_lib.grader'))",
        ],
        cwd=student_venv,
        capture_output=True,
        text=True,
        check=True,
    )
    where, grader = done.stdout.split()
    assert where.startswith(str(student_venv)) and grader == "None"
    check = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "check"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout  # the wheel's pins hold in this environment
    course_command = student_venv / "bin" / "course"
    data = subprocess.run([str(course_command), "data", "check"], cwd=student_venv, text=True)
    assert data.returncode == 0


@pytest.mark.slow
def test_a_release_notebook_runs_its_setup_and_self_checks_with_the_wheel(
    course, student_venv, tmp_path, monkeypatch
):
    kernels = tmp_path / "jupyter" / "kernels" / "student"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(
        '{"argv": ["%s", "-m", "ipykernel_launcher", "-f", "{connection_file}"], '
        '"display_name": "student", "language": "python"}' % (student_venv / "bin" / "python")
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    release = nbformat.read(course.release_notebook_path(LESSON), as_version=4)
    source = course.source_notebook(LESSON)
    solution = {
        cells.grade_id(c): "\n".join(cells.split_region(c.source, cells.SOLUTION)[0])
        for c in source.cells
        if cells.is_answer(c)
    }
    wanted = ("setup", "load", "part_a_answer", "part_a_check", "part_b_answer", "part_b_check")
    release.cells = [c for c in release.cells if cells.grade_id(c) in wanted]
    by_id = {cells.grade_id(c): c for c in release.cells}
    by_id["part_a_answer"].source = solution["part_a_answer"]
    by_id["part_b_answer"].source = WRONG_OUTPUT_LAYER
    location = "import course_lib; print(course_lib.__file__)"
    release.cells.insert(1, nbformat.v4.new_code_cell(location))
    client = NotebookClient(
        release,
        kernel_name="student",
        timeout=300,
        allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},  # not the course folder
    )
    client.execute()
    assert release.cells[1].outputs[0].text.startswith(str(student_venv))
    assert [o.get("name") for o in by_id["setup"].outputs] == ["stdout"]  # no stderr block
    assert by_id["part_a_check"].outputs[0].text.startswith("Part A looks right")
    (error,) = by_id["part_b_check"].outputs
    assert error.traceback[0] == "output layer: wrong activation"
