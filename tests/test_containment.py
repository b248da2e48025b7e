"""Do the defences around the kernel hold, piece by piece, without running a notebook?

Terminal escaping, student ids, output sanitising, the model allow-list, checked file reads,
the hand-in take-over, the confined process (a real one, probed) and the submission caps.
The attacks themselves, as students would write them, are in ``tests/adversarial/``.
"""

from __future__ import annotations

import base64
import glob
import json
import os
import subprocess
import sys
import zipfile

import nbformat
import pytest

from course_lib.admin.doctor import probe
from course_lib.checks import CheckFailure
from course_lib.grader import confine, landlock, names, sanitize, submission
from course_lib.grader.files import RefusedFile, read_regular
from course_lib.grader.handin import Handin, take_over
from course_lib.grader.modelcheck import Allowed, RefusedModel, check_saved_model
from course_lib.grader.processes import Prestarted
from course_lib.grader.settings import DEFAULT_LIMITS
from course_lib.grader.terminal import json_text, printable

from .conftest import ROOT

PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5E"
    "rkJggg=="
)
SCRIPT = "fetch('/api/contents/x', {method: 'PUT'})"


# --- terminal -----------------------------------------------------------------------------------


def test_control_characters_are_shown_not_obeyed():
    fake = "\x1b[2K\x1b[1A\r  PASS  quality  3/3\x9b31m\u202egnp.exe\udce9"
    shown = printable(fake)
    assert shown == "\\x1b[2K\\x1b[1A\\r  PASS  quality  3/3\\x9b31m\\u202egnp.exe\\xe9"
    assert printable("two\nlines\ttab") == "two\\nlines\ttab"
    assert printable("two\nlines\r", multiline=True) == "two\nlines\\r"


def test_json_for_a_terminal_parses_to_the_same_value():
    value = {"message": "a\x1b[2Kb\x85c\u2066d\udce9", "n": 1}
    text = json_text(value)
    assert json.loads(text) == value
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c == "\u2066" for c in text)


# --- student ids --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("ada", None),
        ("$x^$", None),
        ("[a]*", "which nbgrader reads as a pattern"),
        ("who?", "which nbgrader reads as a pattern"),
        ("Zoë Ünal", None),
        ("caf\udce9", "not valid UTF-8"),
        ("esc\x1b[2Kname", "control or invisible characters"),
        ("back\\slash", "backslash"),
        (" ada", "begins or ends with a space"),
        (".hidden", "starts with a dot"),
        ("x" * 129, "129 characters long"),
    ],
)
def test_which_folder_names_can_be_student_ids(name, problem):
    found = names.id_problem(name)
    assert (found is None) if problem is None else (problem in found)


def test_result_file_names_are_unique_safe_and_short():
    students = [
        "ada",
        "Ada",
        "[a]*",
        "%5Ba%5D%2A",
        "$x^$",
        "caf\udce9",
        "caf\\xe9",
        ".x",
        "x" * 250,
    ]
    stems = [names.file_stem(s) for s in students]
    assert len(set(stems)) == len(students)
    assert all(len(s) <= 200 and "/" not in s and s not in (".", "..") for s in stems)
    assert all(s.isascii() and printable(s) == s for s in stems)


def test_a_glob_id_given_to_nbgrader_matches_that_folder_only(tmp_path):
    for student in ("ada", "[a]*", "a1"):
        (tmp_path / student).mkdir()
    pattern = str(tmp_path / names.nbgrader_pattern("[a]*"))
    assert glob.glob(pattern) == [str(tmp_path / "[a]*")]
    assert sorted(glob.glob(str(tmp_path / "[a]*"))) == [
        str(tmp_path / "a1"),
        str(tmp_path / "ada"),
    ]


# --- outputs ------------------------------------------------------------------------------------


def _display(data: dict, metadata: dict | None = None):
    return nbformat.v4.new_output("display_data", data=data, metadata=metadata or {})


def test_outputs_keep_only_what_runs_no_script():
    outputs = [
        _display(
            {"text/html": f'<b>ok</b><img src="x" onerror="{SCRIPT}"><script>{SCRIPT}</script>'}
        ),
        _display({"image/svg+xml": f'<svg xmlns="http://www.w3.org/2000/svg" onload="{SCRIPT}"/>'}),
        _display({"application/javascript": SCRIPT, "text/plain": "<Javascript>"}),
        _display({"text/markdown": "**md** [x](javascript:alert(1))"}),
        _display({"image/png": f'x" onerror="{SCRIPT}'}),
        _display({"image/png": PNG}, {"image/png": {"width": '1" onload="x', "height": 3}}),
        _display({"application/vnd.jupyter.widget-view+json": {"model_id": "m"}}),
        _display({"text/html": f'<iframe srcdoc="<script>{SCRIPT}</script>"></iframe>'}),
    ]
    cleaned = sanitize.clean_outputs(outputs, 100_000)
    text = json.dumps(cleaned)
    for danger in ("onerror", "onload", "<script", 'href="javascript', "<iframe", "<svg", "srcdoc"):
        assert danger not in text, danger
    assert "<b>ok</b>" in cleaned[0]["data"]["text/html"]
    assert cleaned[1]["data"]["text/html"].startswith(
        '<img alt="SVG image" src="data:image/svg+xml'
    )
    assert cleaned[2]["data"] == {"text/plain": "<Javascript>"}
    markdown = cleaned[3]["data"]["text/html"]
    assert '<strong>md</strong> <a rel="noopener noreferrer nofollow">x</a>' in markdown
    assert cleaned[4]["data"] == {"text/plain": "[output not kept: image/png (not a valid image)]"}
    assert cleaned[5]["data"] == {"image/png": PNG} and cleaned[5]["metadata"] == {
        "image/png": {"height": 3}
    }
    assert cleaned[6]["data"]["text/plain"].startswith("[output not kept: application/vnd")


def test_every_kind_of_output_is_capped():
    big = "x" * 3_000_000
    outputs = [
        _display({"text/html": big, "text/plain": big}),
        nbformat.v4.new_output("execute_result", data={"text/plain": big}, execution_count=1),
        nbformat.v4.new_output("stream", name="stdout", text=big),
        _display({"image/png": base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 3_000_000).decode()}),
        nbformat.v4.new_output("error", ename="E", evalue=big, traceback=[big] * 3),
    ]
    cleaned = sanitize.clean_outputs(outputs, 10_000)
    assert len(json.dumps(cleaned)) < 40_000
    assert "more characters not kept" in cleaned[0]["data"]["text/plain"]
    assert "image/png (4,000,012 characters)" in cleaned[3]["data"]["text/plain"]


def test_a_students_own_text_cell_is_shown_as_text():
    cell = nbformat.v4.new_markdown_cell(f'```\n<img src=x onerror="{SCRIPT}">\n```')
    neutral = sanitize.plain_text_cell(cell)
    assert neutral.cell_type == "markdown"
    assert neutral.source.startswith("````text\n") and neutral.source.endswith("\n````")
    from nbconvert.filters.markdown import markdown2html_mistune

    assert "<img" not in markdown2html_mistune(neutral.source)


# --- the model allow-list -----------------------------------------------------------------------


def _saved_model(path, config: dict, extra: dict | None = None):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("metadata.json", "{}")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def _sequential(*layers):
    return {"module": "keras", "class_name": "Sequential", "config": {"layers": list(layers)}}


DENSE = {"module": "keras.layers", "class_name": "Dense", "config": {"units": 1}}
WRITER = {
    "module": "keras.layers",
    "class_name": "Lambda",
    "config": {
        "function": {
            "module": "keras.visualization",
            "class_name": "function",
            "config": "plot_image_gallery",
            "registered_name": "function",
        },
        "arguments": {"path": "/tmp/anything.png"},
    },
}


def test_a_lambda_around_a_public_keras_function_is_refused(tmp_path):
    path = _saved_model(tmp_path / "m.keras", _sequential(DENSE, WRITER))
    with pytest.raises(RefusedModel, match=r"Lambda \(keras.layers\)"):
        check_saved_model(path, Allowed())
    allowed = Allowed.for_lesson({"layers": ["Lambda"]})
    with pytest.raises(
        RefusedModel, match=r"the function keras\.visualization\.plot_image_gallery"
    ):
        check_saved_model(path, allowed)
    check_saved_model(_saved_model(tmp_path / "ok.keras", _sequential(DENSE)), Allowed())


def test_a_loss_wrapping_a_function_and_foreign_members_are_refused(tmp_path):
    loss = {"module": "keras.losses", "class_name": "LossFunctionWrapper", "config": {
        "fn": {"module": "keras.src.utils", "class_name": "function", "config": "print_msg"},
    }}  # fmt: skip
    model = {**_sequential(DENSE), "compile_config": {"loss": loss}}
    with pytest.raises(RefusedModel, match=r"the function keras\.src\.utils\.print_msg"):
        check_saved_model(_saved_model(tmp_path / "a.keras", model), Allowed())
    with pytest.raises(RefusedModel, match="more than a Keras model"):
        check_saved_model(
            _saved_model(tmp_path / "b.keras", _sequential(DENSE), {"../x.py": "x"}), Allowed()
        )
    (tmp_path / "c.keras").write_bytes(b"not a zip")
    with pytest.raises(RefusedModel, match="not a Keras model file"):
        check_saved_model(tmp_path / "c.keras", Allowed())


def test_the_graders_refuse_such_a_model_with_a_message(tmp_path):
    _saved_model(tmp_path / "model.keras", _sequential(DENSE, WRITER))
    (tmp_path / "manifest.json").write_text(json.dumps({"model": {"status": "ok"}}))
    with pytest.raises(CheckFailure, match=r"^`model` could not be reloaded for grading") as info:
        Handin(tmp_path).model("model")
    assert "Lambda" in str(info.value)


# --- files a student controls -------------------------------------------------------------------


def _bytes_read() -> int:
    with open("/proc/self/io") as io:
        return int(dict(line.split(": ") for line in io.read().splitlines())["rchar"])


def test_links_fifos_and_huge_files_are_refused_before_reading(tmp_path):
    (tmp_path / "real.ipynb").write_text("{}")
    (tmp_path / "link.ipynb").symlink_to(tmp_path / "real.ipynb")
    os.mkfifo(tmp_path / "fifo.ipynb")
    with open(tmp_path / "huge.ipynb", "wb") as huge:
        huge.truncate(100 * 2**20)  # sparse: costs no disk
    with pytest.raises(RefusedFile, match=r"link\.ipynb is a symbolic link"):
        read_regular(tmp_path / "link.ipynb", 2**20)
    with pytest.raises(RefusedFile, match=r"fifo\.ipynb is a FIFO or device"):
        read_regular(tmp_path / "fifo.ipynb", 2**20)
    before = _bytes_read()
    with pytest.raises(submission.UngradableError, match=r"huge\.ipynb is 100 MB, over the 20 MB"):
        submission.read_submission(tmp_path / "huge.ipynb")
    assert _bytes_read() - before < 2**20


def _notebook_text(cells: int, metadata: str = "{}") -> bytes:
    cell = '{"cell_type": "markdown", "id": "c", "metadata": {}, "source": "x"}'
    body = ", ".join([cell] * cells)
    head = f'"nbformat": 4, "nbformat_minor": 5, "metadata": {metadata}'
    return f'{{{head}, "cells": [{body}]}}'.encode()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (_notebook_text(1, "[" * 100_000 + "]" * 100_000), "nested too deeply"),
        (_notebook_text(1, "[" * 200 + "]" * 200), "more than 64 levels deep"),
        (_notebook_text(200_000), "has 200,000 cells; notebooks are graded up to 2,000 cells"),
    ],
)
def test_nesting_and_cell_count_are_capped(tmp_path, content, reason):
    with pytest.raises(submission.UngradableError, match=reason):
        submission.parse_submission(content, "nb.ipynb", DEFAULT_LIMITS)


def test_the_hand_in_keeps_only_the_regular_files_asked_for(tmp_path):
    kernel, grader = tmp_path / "kernel", tmp_path / "grader"
    kernel.mkdir()
    (kernel / "manifest.json").write_text("{}")
    (kernel / "X.npy").symlink_to(ROOT / "autograder" / "test_01_regression.py")
    os.mkfifo(kernel / "n.json")
    (kernel / "conftest.py").write_text("raise SystemExit")
    (kernel / "gallery.png").symlink_to(tmp_path / "elsewhere.png")
    notes = take_over(kernel, grader, {"X": "array", "n": "value", "model": "model"})
    assert sorted(p.name for p in grader.iterdir()) == ["manifest.json"]
    assert notes == [
        "hand-in file left out: X.npy is a symbolic link, not a regular file",
        "hand-in file left out: n.json is a FIFO or device, not a regular file",
    ]


def test_the_hand_in_moves_plain_files_and_copies_a_second_name(tmp_path):
    kernel, grader = tmp_path / "kernel", tmp_path / "grader"
    kernel.mkdir()
    (kernel / "manifest.json").write_text("{}")
    (kernel / "X.npy").write_bytes(b"array bytes")
    outside = tmp_path / "outside.json"
    outside.write_text("[1]")
    os.link(outside, kernel / "n.json")  # a second name of a file outside the hand-in
    assert take_over(kernel, grader, {"X": "array", "n": "value"}) == []
    assert (grader / "X.npy").read_bytes() == b"array bytes"
    assert not (kernel / "X.npy").exists(), "a plain file is moved, not copied"
    assert (grader / "X.npy").stat().st_mode & 0o777 == 0o600
    assert (grader / "n.json").read_text() == "[1]"
    assert (kernel / "n.json").exists() and outside.stat().st_nlink == 2, "a link is copied"
    assert (grader / "n.json").stat().st_ino != outside.stat().st_ino


# --- a confined process, for real ---------------------------------------------------------------


def test_a_confined_process_reaches_no_terminal_file_network_or_secret():
    checkup = probe(ROOT)
    assert checkup.abi >= 5, "these machines have Landlock ABI 5 or later"
    assert checkup.tried and all(v.startswith("refused") for v in checkup.tried.values()), (
        checkup.tried
    )


REACH_OUT = """
import json, os, sys
from course_lib.grader import confine
pid, out = int(sys.argv[1]), sys.argv[2]
confine.apply(confine.Confinement(
    read_only=confine.python_read_only_paths(), read_write=[out], env=confine.base_env()
))
tried = {}
for what, act in (
    ("write its pipe", lambda: open(f"/proc/{pid}/fd/0", "w").write("go\\n")),
    ("signal it", lambda: os.kill(pid, 0)),
):
    try:
        act()
        tried[what] = "done"
    except OSError as exc:
        tried[what] = f"refused: {exc.strerror}"
print(json.dumps(tried))
"""


def test_a_confined_process_cannot_reach_graders_waiting_beside_it(tmp_path):
    """Can the kernel tell the graders' process started with it to go early, or stop it? No."""
    waiting = Prestarted(["sleep", "60"], memory_mb=64)  # stands in for the waiting graders
    try:
        done = subprocess.run(
            [sys.executable, "-P", "-c", REACH_OUT, str(waiting.process.pid), str(tmp_path)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": confine.python_path()},
            timeout=120,
        )
        tried = json.loads(done.stdout)
        assert tried["write its pipe"] == "refused: Permission denied", done.stderr
        if landlock.abi_version() >= 6:  # signals are scoped from Landlock ABI 6 on
            assert tried["signal it"] == "refused: Operation not permitted"
        assert waiting.process.poll() is None
    finally:
        waiting.cancel()
    assert waiting.process.returncode is not None
