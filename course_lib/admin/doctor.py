"""``course doctor``: what confinement grading gets on this machine, proven by a confined probe.

It reports the Landlock ABI and what each version adds, which ``course_lib`` the confined
processes import, whether grading runs as root, and then starts one confined process (the
same :func:`course_lib.grader.confine.apply` the kernel and the graders use) that tries what a
hostile notebook would: write into the course folder, open a terminal, type into it, connect
over TCP, read the instructor's environment. Each attempt must fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from course_lib.grader import confine, landlock

PROBE = r"""
import json, os, socket, sys
from course_lib.grader import confine

course, secret, out = sys.argv[1:4]
tried = {}

def attempt(name, action):
    try:
        action()
        tried[name] = "ALLOWED"
    except OSError as exc:
        tried[name] = f"refused ({type(exc).__name__})"

config = json.loads(sys.stdin.read())
abi = confine.apply(confine.Confinement.from_dict(config))
attempt("write into the course folder", lambda: open(os.path.join(course, ".doctor"), "w"))
attempt("write into /tmp", lambda: open("/tmp/.course-doctor", "w"))
attempt("open /dev/tty", lambda: os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
attempt("open a new terminal (/dev/ptmx)", lambda: os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY))
attempt("open /dev/console", lambda: os.open("/dev/console", os.O_RDWR | os.O_NOCTTY))
attempt("connect over TCP", lambda: socket.create_connection(("127.0.0.1", 9), timeout=2))
def read_secret():
    if os.environ.get("COURSE_DOCTOR_SECRET") != secret:
        raise PermissionError("not in the environment")
attempt("see the instructor's environment", read_secret)
with open(out, "w") as handle:
    json.dump({"abi": abi, "tried": tried, "euid": os.geteuid()}, handle)
"""


@dataclass
class Checkup:
    abi: int
    tried: dict[str, str]
    as_root: bool

    @property
    def ok(self) -> bool:
        return self.abi > 0 and all(v.startswith("refused") for v in self.tried.values())


def probe(course_root: Path) -> Checkup:
    """Run the confined probe and return what it could and could not do."""
    with tempfile.TemporaryDirectory(prefix="course-doctor-") as tmp:
        out = Path(tmp) / "out"
        out.mkdir()
        confinement = confine.Confinement(
            read_only=confine.python_read_only_paths(),
            read_write=[str(out)],
            env=confine.base_env(),
        )
        secret = "course-doctor-secret"
        done = subprocess.run(
            [
                sys.executable,
                "-P",
                "-c",
                PROBE,
                str(course_root),
                secret,
                str(out / "result.json"),
            ],
            input=json.dumps(confinement.as_dict()),
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": confine.python_path(), "COURSE_DOCTOR_SECRET": secret},
            timeout=120,
        )
        try:
            result = json.loads((out / "result.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            tail = " / ".join(done.stderr.strip().splitlines()[-2:])
            raise RuntimeError(f"the confined probe failed: {tail}") from None
    return Checkup(result["abi"], result["tried"], os.geteuid() == 0)


def report(course_root: Path) -> tuple[str, bool]:
    """The doctor's text, and whether confinement holds on this machine."""
    abi = landlock.abi_version()
    lines = [
        f"Python:       {sys.executable} ({sys.version.split()[0]})",
        f"course_lib:   {confine.course_lib_dir()} (what the kernel and the graders import)",
        f"Landlock ABI: {abi}" + ("" if abi else "  (none: grading is NOT confined)"),
    ]
    lines += [f"  ✔ {text}" for text in landlock.protections(abi)]
    missing = [text for version, text in landlock.PROTECTIONS if abi < version]
    lines += [f"  ✘ {text}" for text in missing]
    checkup = probe(course_root)
    lines.append(
        "grading user: root (every capability is dropped in the kernel and the graders)"
        if checkup.as_root
        else "grading user: not root"
    )
    lines.append("a confined process (as the kernel and the graders are) tried to:")
    lines += [f"  {name}: {outcome}" for name, outcome in checkup.tried.items()]
    lines.append("confinement holds" if checkup.ok else "confinement does NOT hold on this machine")
    return "\n".join(lines), checkup.ok
