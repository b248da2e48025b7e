"""Execute one notebook in a confined kernel and collect its hand-in.

Each notebook gets its own kernel process, started by :mod:`course_lib.grader.sandbox`.
Limits: a per-cell timeout (the cell is interrupted and marked, the rest still runs),
a whole-notebook time limit, and a memory cap enforced outside the kernel. If the
kernel dies (crash, ``os._exit``, memory), the cell that killed it is marked, a fresh
kernel replays the cells before it and execution goes on after it, so one bad cell
costs only what depends on it. Finally one appended cell exports the hand-in, which the
grader takes over (:func:`course_lib.grader.handin.take_over`) once the kernel is gone.

Before any student code runs, the kernel is asked which ``course_lib`` it imports: a kernel
that cannot import the one this process runs is a fault of the kit (:attr:`Status.ERROR`),
never a student's zero. Every cell's outputs are cleaned and capped as soon as it has run
(:mod:`course_lib.grader.sanitize`), so nothing unsafe or oversized is ever kept.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from course_lib.grader import confine, sandbox, sanitize
from course_lib.grader.handin import export_cell_source, take_over
from course_lib.grader.processes import kill_tree
from course_lib.grader.report import Status
from course_lib.grader.settings import Limits

KERNEL_NAME = "course-sandbox"
MAX_RESTARTS = 2
_START_AGAIN = "start again"
"""What a session returns when its kernel did not start (it is started again, once)."""
EXPORT_TIMEOUT = 300
INTERRUPT_GRACE = 10
"""Seconds a kernel has, after a timed-out cell was interrupted, to be ready for the next one."""


@dataclass
class ExecutionOutcome:
    """What happened when the notebook ran, in plain words for the graders."""

    notebook: nbformat.NotebookNode
    seconds: float = 0.0
    peak_mb: int = 0
    stopped: str | None = None
    not_implemented: bool = False
    first_error: str | None = None
    incidents: list[str] = field(default_factory=list)
    handed_in: bool = False
    landlock_abi: int = 0
    """The Landlock ABI the kernel was confined with (0: no Landlock on this system)."""
    events: list[tuple[Status, str, bool]] = field(default_factory=list)
    """Everything that went wrong: ``(status, reason, whether the kernel had to be stopped)``."""

    def record(self, status: Status, reason: str, *, kernel_stopped: bool = True) -> None:
        self.events.append((status, reason, kernel_stopped))

    @property
    def status(self) -> Status:
        return self._worst()[0]

    @property
    def status_reason(self) -> str | None:
        return self._worst()[1]

    def _worst(self) -> tuple[Status, str | None]:
        """The worst event (a stopped kernel outranks a stopped cell of the same status)."""
        if not self.events:
            return Status.GRADED, None
        status, reason, _ = max(
            self.events, key=lambda event: (event[0].severity, event[2])
        )  # max keeps the first of equals
        return status, reason

    def as_dict(self) -> dict:
        return {
            "stopped": self.stopped,
            "not_implemented": self.not_implemented,
            "first_error": self.first_error,
            "incidents": self.incidents,
        }


class _Kernel:
    """One confined kernel: its private folder, kernelspec, config and status file."""

    def __init__(
        self,
        workdir: Path,
        handin_dir: Path,
        limits: Limits,
        private: Path,
        kernel_server: dict | None = None,
    ) -> None:
        self.private = private
        self.status_file = private / "kernel-status.json"
        forkserver_file = None
        if kernel_server:
            forkserver_file = private / "forkserver.json"
            forkserver_file.touch(mode=0o600)
            forkserver_file.write_text(json.dumps(kernel_server), encoding="utf-8")
        spec_dir = private / "kernels" / KERNEL_NAME
        spec_dir.mkdir(parents=True, exist_ok=True)
        config_file = private / "sandbox.json"
        python_path = confine.python_path_folder(private / "python")
        env = {
            **sandbox.shared_kernel_env(limits.thread_env()),
            "PYTHONPATH": str(python_path),
            "HOME": str(workdir),
            "TMPDIR": str(workdir / ".tmp"),
            "MPLCONFIGDIR": str(workdir / ".config" / "matplotlib"),
            "IPYTHONDIR": str(workdir / ".ipython"),
        }
        (workdir / ".tmp").mkdir(parents=True, exist_ok=True)
        self.connection_file = private / "connection.json"
        sandbox.SandboxConfig(
            status_file=str(self.status_file),
            workdir=str(workdir),
            memory_mb=limits.memory_mb,
            read_only=[
                *confine.python_read_only_paths(),
                str(python_path),
                str(confine.keras_home()),
                str(self.connection_file),
            ],
            read_write=[str(workdir), str(handin_dir)],
            env=env,
            log_file=str(private / "kernel.log"),
            forkserver_file=str(forkserver_file) if forkserver_file else None,
        ).write(config_file)
        (spec_dir / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [
                        os.environ.get("COURSE_KERNEL_PYTHON", _python()),
                        "-P",  # never import from the launch folder
                        "-m",
                        "course_lib.grader.sandbox",
                        "--config",
                        str(config_file),
                        "-f",
                        "{connection_file}",
                    ],
                    "env": {"PYTHONPATH": confine.python_path()},
                    "display_name": "Python 3 (graded)",
                    "language": "python",
                }
            ),
            encoding="utf-8",
        )
        self.spec_manager = KernelSpecManager(kernel_dirs=[str(private / "kernels")])

    def manager(self) -> KernelManager:
        # nbclient needs an asynchronous client: a blocking one waits forever on a dead kernel.
        manager = KernelManager(
            kernel_name=KERNEL_NAME,
            kernel_spec_manager=self.spec_manager,
            client_class="jupyter_client.asynchronous.AsyncKernelClient",
        )
        manager.connection_file = str(self.connection_file)
        return manager

    def status(self) -> dict:
        try:
            status = json.loads(self.status_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return status if isinstance(status, dict) else {}

    def start_cold(self) -> None:
        """Start the next kernel in a fresh interpreter, not from a fork server."""
        (self.private / "forkserver.json").unlink(missing_ok=True)

    def forget_status(self) -> None:
        """Before a kernel starts: no status (nor watcher) of an earlier kernel is read."""
        self.status_file.unlink(missing_ok=True)

    def roots(self, manager: KernelManager) -> list[int]:
        """The processes whose trees hold the kernel: its launcher and its watcher.

        They are one process for a kernel the launcher started, two for a forked one (the
        watcher is a child of the fork server, named in the status file it writes).
        """
        process = getattr(getattr(manager, "provisioner", None), "process", None)
        roots = [process.pid] if process is not None else []
        status = self.status()
        if sandbox.is_watcher(status) and status["watcher"] not in roots:
            roots.append(status["watcher"])
        return roots


def _kill_kernel_tree(kernel: _Kernel, manager: KernelManager) -> None:
    """Kill the kernel and every process it left behind, keeping only its watcher.

    The watcher adopts orphans (it is their subreaper), so they are found among its
    descendants for as long as it lives.
    """
    for root in kernel.roots(manager):
        kill_tree(root, include_root=False)


def _shut_down(kernel: _Kernel, manager: KernelManager) -> None:
    """Stop the kernel, its watcher and anything they left running, for good.

    The tree is killed first: once the watcher is gone, processes the kernel left behind
    would be adopted by init and escape (nbclient also leaves kernels it does not own).
    """
    for root in kernel.roots(manager):
        kill_tree(root)
    try:
        if manager.has_kernel:
            manager.shutdown_kernel(now=True)
    except Exception:
        pass
    with contextlib.suppress(Exception):
        manager.cleanup_resources()


def _python() -> str:
    import sys

    return sys.executable


def _first_line(cell) -> str:
    for line in str(cell.get("source", "")).splitlines():
        if line.strip() and not line.strip().startswith("#"):
            return line.strip()[:60]
    return "(empty)"


def _mark_timed_out(cell, seconds: int) -> None:
    """Say in the cell's outputs that it was stopped for time (not by a KeyboardInterrupt)."""
    cell.outputs = [
        *(o for o in cell.get("outputs", []) if o.get("ename") != "KeyboardInterrupt"),
        nbformat.v4.new_output(
            "error",
            ename="CellTimeoutError",
            evalue=f"the cell ran longer than {seconds} s and was stopped",
            traceback=[f"CellTimeoutError: the cell ran longer than {seconds} s and was stopped"],
        ),
    ]


def _responds(client: NotebookClient) -> bool:
    """Whether the kernel, after an interrupt, runs code again within ``INTERRUPT_GRACE`` s."""
    msg_id = client.kc.execute("", silent=True, store_history=False)
    client.timeout = INTERRUPT_GRACE
    return client.wait_for_reply(msg_id) is not None


def _course_lib_problem(client: NotebookClient) -> str | None:
    """Why this kernel cannot import the ``course_lib`` this process runs (None if it can)."""
    expected = str(confine.course_lib_dir() / "__init__.py")
    msg_id = client.kc.execute(
        "",
        silent=True,
        store_history=False,
        user_expressions={"path": "__import__('course_lib').__file__"},
    )
    client.timeout = 60
    reply = client.wait_for_reply(msg_id)
    found = ((reply or {}).get("content", {}).get("user_expressions") or {}).get("path") or {}
    if found.get("status") != "ok":
        error = f"{found.get('ename', 'no answer')}: {found.get('evalue', '')}".strip(": ")
        return f"the grading kernel cannot import course_lib ({error[:200]})"
    path = str(found.get("data", {}).get("text/plain", "")).strip("'\"")
    if os.path.realpath(path) != os.path.realpath(expected):
        return f"the grading kernel imports course_lib from {path}, not from {expected}"
    return None


def execute_notebook(
    notebook: nbformat.NotebookNode,
    *,
    spec: dict,
    limits: Limits,
    handin_dir: Path,
    lesson_files: list[Path] = (),
    lesson_dir: Path | None = None,
    kernel_server: dict | None = None,
) -> ExecutionOutcome:
    """Run ``notebook`` confined, then collect the names in ``spec`` into ``handin_dir``.

    ``kernel_server`` (a warm server's address) has its fork server fork the kernel.
    """
    notebook = copy.deepcopy(notebook)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="course-run-") as tmp:
        private = Path(tmp) / "private"
        workdir = Path(tmp) / "work"
        kernel_handin = Path(tmp) / "handin"
        for folder in (private, workdir, kernel_handin):
            folder.mkdir()
        for path in lesson_files:
            target = workdir / (path.relative_to(lesson_dir) if lesson_dir else path.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        kernel = _Kernel(workdir, kernel_handin, limits, private, kernel_server)
        outcome = _Runner(notebook, kernel, limits, private, started).run(
            export_cell_source(spec, kernel_handin)
        )
        # every process of the kernel is gone: nothing can change the hand-in any more
        outcome.incidents += take_over(kernel_handin, Path(handin_dir), spec)
    sanitize.clean_notebook(outcome.notebook, limits.max_output_chars)
    outcome.handed_in = (Path(handin_dir) / "manifest.json").is_file()
    outcome.seconds = round(time.monotonic() - started, 2)
    return outcome


class _Runner:
    """Runs the cells, restarting the kernel past a cell that killed it."""

    def __init__(self, notebook, kernel: _Kernel, limits: Limits, launch_dir: Path, started: float):
        self.notebook = notebook
        self.kernel = kernel
        self.limits = limits
        self.launch_dir = launch_dir
        self.deadline = started + limits.notebook_timeout
        self.outcome = ExecutionOutcome(notebook=notebook)
        self.deadline_hit = False
        self.stuck = False
        self.timed_out = False
        self.probed = False
        self.start_retried = False
        self.current: int | str | None = None

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def run(self, export_source: str) -> ExecutionOutcome:
        code_cells = [i for i, c in enumerate(self.notebook.cells) if c.cell_type == "code"]
        skip: set[int] = set()
        start_at = 0
        restarts = 0
        export_cell = nbformat.v4.new_code_cell(export_source)
        while True:
            died_at = self._session(code_cells, skip, start_at, export_cell)
            if died_at is None:
                break
            if died_at == _START_AGAIN:
                continue
            if (
                died_at == "export"
                or restarts >= MAX_RESTARTS
                or self.remaining() < 30
                or self.deadline_hit
            ):
                break
            restarts += 1
            skip.add(died_at)
            start_at = 0
        self._summarise()
        return self.outcome

    def _session(self, code_cells, skip, start_at, export_cell):
        """One kernel lifetime: None when all ran, else the index (or "export") that died."""
        manager = self.kernel.manager()
        # nbclient answers a timed-out cell with this reply instead of the kernel's: a name no
        # student code can raise tells the two apart (on_cell_executed sees the reply).
        timeout_name = f"CourseCellTimeout{secrets.token_hex(8)}"

        def note_reply(cell, cell_index, execute_reply) -> None:
            content = (execute_reply or {}).get("content", {})
            self.timed_out = content.get("ename") == timeout_name

        client = NotebookClient(
            self.notebook,
            km=manager,
            timeout=self.limits.cell_timeout,
            interrupt_on_timeout=True,
            error_on_timeout={"ename": timeout_name, "evalue": "", "traceback": []},
            on_cell_executed=note_reply,
            allow_errors=True,
            raise_on_iopub_timeout=False,
            iopub_timeout=30,  # outputs still arriving after the reply (a loaded machine)
            startup_timeout=120,
            shutdown_kernel="immediate",
            extra_arguments=["--HistoryManager.hist_file=:memory:"],
            # the launcher starts in a folder the student cannot write (the kernel then moves
            # to its working folder): nothing planted there is ever imported outside the sandbox
            resources={"metadata": {"path": str(self.launch_dir)}},
        )
        self.kernel.forget_status()
        timer = threading.Timer(
            max(self.remaining(), 0.1), self._kill_for_deadline, args=(manager,)
        )
        timer.daemon = True
        timer.start()
        self.current = None
        kernel_ready = False
        try:
            with (
                open(self.kernel.private / "kernel.log", "ab") as log,
                client.setup_kernel(stdout=log, stderr=log, cleanup_kc=True),
            ):
                kernel_ready = True
                try:
                    # before any student code: later kernels see what the student's cells left
                    problem = None if self.probed else _course_lib_problem(client)
                    self.probed = True
                    if problem:
                        self.outcome.incidents.append(problem)
                        self.outcome.record(Status.ERROR, problem)
                        self.outcome.stopped = self.outcome.stopped or problem
                        return None
                    return self._run_cells(client, code_cells, skip, start_at, export_cell)
                finally:
                    # Now, before nbclient kills the watcher, whose orphans would escape to init.
                    _kill_kernel_tree(self.kernel, manager)
        except DeadKernelError:
            return self._record_death(self.current)
        except Exception as exc:
            if self.deadline_hit:
                return self._record_death(self.current)
            if not kernel_ready and not self.start_retried and self.remaining() > 30:
                # no code of the student's has run in it: not theirs to pay for (a port taken
                # meanwhile, a fork server's hiccup); once more, started cold
                self.start_retried = True
                self.kernel.start_cold()
                return _START_AGAIN
            problem = f"execution stopped: {type(exc).__name__}: {exc}"[:300]
            self.outcome.incidents.append(problem)
            self.outcome.record(Status.ERROR, problem)
            self.outcome.stopped = (
                self.outcome.stopped or "the notebook could not be run to the end"
            )
            return None
        finally:
            timer.cancel()
            _shut_down(self.kernel, manager)
            status = self.kernel.status()
            self.outcome.peak_mb = max(self.outcome.peak_mb, int(status.get("peak_mb", 0)))
            self.outcome.landlock_abi = int(status.get("landlock_abi", self.outcome.landlock_abi))

    def _run_cells(self, client, code_cells, skip, start_at, export_cell):
        """Run the cells, then the export cell; None when all ran, else what ``_session`` says."""
        for index in code_cells[start_at:]:
            cell = self.notebook.cells[index]
            if index in skip:
                continue
            self.current = index
            cell.outputs = []
            client.timeout = int(max(1, min(self.limits.cell_timeout, self.remaining())))
            self.timed_out = False
            client.execute_cell(cell, index)
            sanitize.clean_cell_outputs(cell, self.limits.max_output_chars)
            if self.deadline_hit:
                self.outcome.record(Status.TIMED_OUT, self._deadline_reason())
                return None
            if self.timed_out:
                limit = client.timeout
                _mark_timed_out(cell, limit)
                if not _responds(client):
                    self.stuck = True
                    return self._record_death(index)
                self.outcome.record(
                    Status.TIMED_OUT,
                    f"a cell was stopped: the cell ran longer than {limit} s and was stopped",
                    kernel_stopped=False,
                )
        self.current = "export"
        client.timeout = EXPORT_TIMEOUT
        self.notebook.cells.append(export_cell)
        try:
            client.execute_cell(export_cell, len(self.notebook.cells) - 1)
        finally:
            self.notebook.cells.pop()
        self._check_export(export_cell)
        return None

    def _kill_for_deadline(self, manager) -> None:
        self.deadline_hit = True
        for root in self.kernel.roots(manager):
            kill_tree(root)

    def _deadline_reason(self) -> str:
        limit = self.limits.notebook_timeout
        return f"the notebook ran longer than the {limit} s limit and was stopped"

    def _record_death(self, current):
        kernel = self.kernel.status()
        status = Status.CRASHED
        if self.deadline_hit:
            status, reason = Status.TIMED_OUT, self._deadline_reason()
        elif self.stuck:
            self.stuck = False
            status = Status.TIMED_OUT
            reason = (
                f"the cell ran longer than {self.limits.cell_timeout} s and ignored the "
                "interrupt, so the kernel was stopped"
            )
        elif kernel.get("reason") == "memory":
            status = Status.MEMORY
            reason = (
                f"the kernel used more than {self.limits.memory_mb} MB of memory and was stopped"
            )
        elif kernel.get("reason") in ("exited", "signal"):
            reason = f"the kernel died (exit status {kernel.get('code')})"
        else:
            reason = "the kernel died"
        if current == "export":
            self.outcome.stopped = f"{reason} while its answers were being collected"
            self.outcome.record(status, self.outcome.stopped)
            return "export"
        if current is None:
            # no student code ran yet: the kernel could not start, a fault of the kit
            self.outcome.stopped = f"{reason} before any cell ran"
            self.outcome.record(Status.ERROR, f"the grading kernel did not start: {reason}")
            return "export"
        cell = self.notebook.cells[current]
        cell.outputs = [
            *cell.get("outputs", []),
            nbformat.v4.new_output(
                "error", ename="KernelDied", evalue=reason, traceback=[f"KernelDied: {reason}"]
            ),
        ]
        where = f"in the cell starting `{_first_line(cell)}`"
        self.outcome.incidents.append(f"{reason} {where}")
        self.outcome.record(status, f"{reason} {where}")
        if self.deadline_hit:
            self.outcome.stopped = f"{reason} ({where})"
            return "export"
        return current

    def _check_export(self, export_cell) -> None:
        for output in export_cell.get("outputs", []):
            if output.get("output_type") == "error":
                self.outcome.incidents.append(
                    f"collecting the answers failed: {output.get('ename')}: {output.get('evalue')}"[
                        :300
                    ]
                )

    def _summarise(self) -> None:
        for cell in self.notebook.cells:
            for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
                if output.get("output_type") != "error":
                    continue
                if output.get("ename") == "NotImplementedError":
                    self.outcome.not_implemented = True
                elif self.outcome.first_error is None:
                    # the error's first line says what went wrong (a check's expected/found
                    # lines follow it): a summary, never a cut in the middle of a detail
                    lines = str(output.get("evalue")).strip().splitlines() or [""]
                    summary = lines[0] if len(lines[0]) <= 160 else lines[0][:159] + "…"
                    self.outcome.first_error = (
                        f"the cell starting `{_first_line(cell)}` raised "
                        f"{output.get('ename')}: {summary}"
                    )
        if self.outcome.incidents and self.outcome.first_error is None:
            self.outcome.first_error = self.outcome.incidents[0]
