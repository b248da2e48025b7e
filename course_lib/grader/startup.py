"""What a grading process skips when it starts, to start sooner."""

from __future__ import annotations

import sys


def skip_iri_grammar() -> None:
    """Spare this process the 1.5 s jsonschema spends building an IRI grammar on import when
    ``rfc3987_syntax`` is installed (JupyterLab's event schemas bring it in).

    nbformat imports jsonschema to validate notebooks and checks no IRI with it. Call before
    anything imports nbformat; a process that imported the grammar already keeps it.
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # None: importing it raises ImportError
