"""Students' nbgrader configuration on the course's hub (on their JUPYTER_CONFIG_PATH).

The course, its exchange (the course folder's ``exchange/``: one machine), the hub's groups
deciding who takes the course, and Validate running every cell (the self-checks count).
"""

import os
from pathlib import Path

from nbgrader.auth import JupyterHubAuthPlugin

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

COURSE = Path(__file__).resolve().parents[2]

c.CourseDirectory.course_id = "keras-course"
c.Exchange.root = str(COURSE / "exchange")
c.Authenticator.plugin_class = JupyterHubAuthPlugin
c.Validator.validate_all = True
# The trial hub runs every user as its own Unix user: submissions are named after the hub
# user instead (with real Unix users, as DockerSpawner/KubeSpawner give, drop this line).
c.CourseDirectory.student_id = os.environ["JUPYTERHUB_USER"]
