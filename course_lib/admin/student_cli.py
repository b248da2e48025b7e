"""The ``course`` command of the student package: offline datasets only.

A student's machine gets ``course data import DIR`` and ``course data check`` (the same
commands the instructor's ``course`` has); grading, releasing and the rest stay with the
instructor's package. Only the standard library and :mod:`course_lib.admin.datasets` are
used, so the student wheel ships nothing else of ``admin``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_data_import(args) -> int:
    from course_lib.admin import datasets

    try:
        states = datasets.import_folder(Path(args.folder))
    except FileNotFoundError as exc:
        print(f"✘ {exc}", file=sys.stderr)
        return 2
    for state in states:
        print(f"  {state.state:<16} {state.file.name}  {state.detail}")
    bad = [s for s in states if s.state == "corrupt"]
    if bad:
        print(f"✘ {len(bad)} file(s) failed the checksum and were NOT imported", file=sys.stderr)
        return 1
    print(f"Keras dataset cache: {datasets.keras_datasets_dir()}")
    return 0


def cmd_data_check(args) -> int:
    from course_lib.admin import datasets

    states = datasets.check_cache()
    for state in states:
        print(f"  {state.state:<8} {state.file.name}  {state.detail}")
    return 1 if any(s.state == "corrupt" for s in states) else 0


def add_data_commands(sub) -> None:
    """``data import DIR`` and ``data check`` under ``sub`` (an argparse subparsers object)."""
    data_parser = sub.add_parser("data", help="offline datasets for Keras")
    data_sub = data_parser.add_subparsers(dest="data_command", required=True)
    data_import = data_sub.add_parser(
        "import", help="verify checksums and copy a folder into the Keras cache"
    )
    data_import.add_argument("folder")
    data_import.set_defaults(func=cmd_data_import)
    data_sub.add_parser("check", help="report which dataset files Keras will find").set_defaults(
        func=cmd_data_check
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="course", description="The Keras course's datasets, for offline use."
    )
    add_data_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
