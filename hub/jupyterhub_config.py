"""A JupyterHub for the Keras course: ``make hub`` starts it on 127.0.0.1 for a trial.

* **Users.** The instructor ``instructor`` and the students in :data:`STUDENTS` log in with
  JupyterHub's dummy authenticator and the trial password (``COURSE_HUB_PASSWORD``,
  default ``keras-course``): trial only, on 127.0.0.1.
* **Servers.** Each user's JupyterLab is a local process (JupyterHub's
  ``SimpleLocalProcessSpawner``: every user runs as the hub's own Unix user, in a home of
  their own under ``.course/hub/homes/``), started from this environment.
* **nbgrader's JupyterHub integration.** Group ``formgrade-keras-course`` (instructors)
  reaches the formgrader, a hub service named after the course (JupyterLab on the course
  folder, ``/services/keras-course/``); group ``nbgrader-keras-course`` (students) gets the
  course in its Assignment List. Students' nbgrader reads ``hub/students/nbgrader_config.py``:
  the course, the course's exchange, the hub's groups (``JupyterHubAuthPlugin``).
* **Proxy.** ``configurable-http-proxy`` from npm, installed into ``hub/node_modules`` by
  ``make hub`` (``npm ci``).

What changes for a real class (a real authenticator, DockerSpawner or KubeSpawner with the
students' image, a shared exchange, a Postgres gradebook) is in the README, "Running a
class"; none of it is tested here. State (database, cookie secret, homes) lives in
``.course/hub/``. Command-line options override this file, e.g. ``--port``.
"""

import os
import socket
import sys
from pathlib import Path

from course_lib.admin.lab import SETTINGS as LAB_SETTINGS
from course_lib.admin.lab import prepare_exchange
from course_lib.grader.course import Course

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

HUB = Path(__file__).resolve().parent
COURSE = HUB.parent
STATE = COURSE / ".course" / "hub"
BIN = Path(sys.executable).parent
COURSE_ID = "keras-course"
INSTRUCTORS = ["instructor"]
STUDENTS = ["alice", "bob"]
AS_ROOT = ["--allow-root"] if os.geteuid() == 0 else []

STATE.mkdir(parents=True, exist_ok=True)
prepare_exchange(Course(COURSE))  # the course's exchange, made as `course lab` makes it


def free_port() -> int:
    """A free port on 127.0.0.1 for an internal endpoint (hub API, proxy API, service)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(**extra: str) -> dict:
    """What every server of the hub needs: this environment's scripts and the datasets."""
    return {
        "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
        "KERAS_HOME": os.environ.get("KERAS_HOME") or str(Path.home() / ".keras"),
        **extra,
    }


# --- the hub and its proxy, on 127.0.0.1 only -------------------------------------------------
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = 8000
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = free_port()
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.command = [str(HUB / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "cookie_secret")

# --- who logs in (trial: one shared password) -------------------------------------------------
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = os.environ.get("COURSE_HUB_PASSWORD", "keras-course")
c.Authenticator.allowed_users = set(INSTRUCTORS + STUDENTS)
c.Authenticator.admin_users = set(INSTRUCTORS)

# --- each user's JupyterLab: a local process in a home of its own ----------------------------
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "homes" / "{username}")
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.args = [f"--LabApp.app_settings_dir={LAB_SETTINGS}", *AS_ROOT]
c.Spawner.default_url = "/lab"
c.Spawner.environment = environment(JUPYTER_CONFIG_PATH=str(HUB / "students"))
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

# --- nbgrader: the course's groups, its formgrader service, who may reach what ---------------
FORMGRADE, NBGRADER = f"formgrade-{COURSE_ID}", f"nbgrader-{COURSE_ID}"
c.JupyterHub.load_groups = {
    FORMGRADE: {"users": INSTRUCTORS},
    NBGRADER: {"users": STUDENTS},
}
c.JupyterHub.services = [
    {
        "name": COURSE_ID,
        "url": f"http://127.0.0.1:{free_port()}",
        "command": [
            str(BIN / "jupyterhub-singleuser"),
            f"--ServerApp.root_dir={COURSE}",
            f"--LabApp.app_settings_dir={LAB_SETTINGS}",
            *AS_ROOT,
        ],
        "cwd": str(COURSE),
        # the course's nbgrader_config.py from any folder, as `course lab` does
        "environment": environment(
            JUPYTER_CONFIG_PATH=str(COURSE),
            COURSE_DIR=str(COURSE),
            JUPYTERHUB_DEFAULT_URL="/lab",
        ),
        "oauth_no_confirm": True,
    }
]
c.JupyterHub.load_roles = [
    # a user's server acts with its owner's rights: nbgrader reads the owner's groups
    {"name": "server", "scopes": ["inherit"]},
    {
        "name": FORMGRADE,
        "groups": [FORMGRADE],
        "scopes": [f"access:services!service={COURSE_ID}", "list:services"],
    },
    {
        "name": NBGRADER,
        "groups": [NBGRADER],
        "scopes": ["list:services", f"read:services!service={COURSE_ID}"],
    },
    {
        # formgrader adds and removes students through the hub's groups
        "name": f"{COURSE_ID}-service",
        "services": [COURSE_ID],
        "scopes": ["list:users", "read:users", "list:groups", "read:groups", "groups"],
    },
]
