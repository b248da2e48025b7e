"""Watching process trees: the memory a watcher sees is the whole tree's."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from course_lib.grader import processes

HELD_MB = 100

PARENT = textwrap.dedent(
    f"""
    import subprocess, sys, threading
    HOLD = (
        "import time; data = b'x' * ({HELD_MB} * 2**20); print('ready', flush=True); "
        "time.sleep(60)"
    )

    started = threading.Event()

    def start_holder():  # from a second thread, alive: the kernel lists the child under it
        holder = subprocess.Popen([sys.executable, "-c", HOLD], stdout=subprocess.PIPE, text=True)
        holder.stdout.readline()
        started.set()
        threading.Event().wait()

    threading.Thread(target=start_holder, daemon=True).start()
    started.wait()
    print("ready", flush=True)
    sys.stdin.read()
    """
)


def test_tree_memory_counts_children_any_thread_started():
    with subprocess.Popen(
        [sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as parent:
        _measure_tree(parent)


def _measure_tree(parent: subprocess.Popen) -> None:
    try:
        assert parent.stdout.readline().strip() == "ready"
        alone = processes._rss(parent.pid)
        whole = processes.tree_rss(parent.pid)
        assert whole - alone > HELD_MB * 2**20
        # the same figure as reading every process's parent (nothing in the tree is moving)
        scanned = processes._tree_rss_scanned(parent.pid, include_root=True)
        assert abs(whole - scanned) < 2**20
        below = processes.tree_rss(parent.pid, include_root=False)
        assert abs(below - (whole - alone)) < 2**20
    finally:
        processes.kill_tree(parent.pid)
        parent.wait()


def test_tree_memory_of_a_process_gone():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert processes.tree_rss(gone.pid) == 0
