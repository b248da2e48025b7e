"""What a graded notebook hands to the graders, and how the graders read it back.

Grading never trusts the student's kernel. After the notebook has run, the grader appends
one cell, built from :func:`export_namespace`, which writes the objects the lesson grades
(models as ``.keras`` files, arrays as ``.npy``, plain answers as JSON) into a hand-in
folder. Once the kernel and everything it started are dead, :func:`take_over` copies the
files the lesson asks for into a folder only the grader writes: regular files only, opened
without following links, each within size; links, FIFOs, devices and anything else the kernel
left there stay behind. The verdict is computed later, in a confined process, by
:class:`Handin`: it checks every model's configuration against the lesson's allow-list
(:mod:`course_lib.grader.modelcheck`), reloads it with ``safe_mode`` on and recomputes
everything itself. Whatever the kernel printed, stored or patched plays no part.
"""

from __future__ import annotations

import inspect
import json
import math
import re
from pathlib import Path

from course_lib.checks import CheckFailure, not_implemented
from course_lib.grader.files import RefusedFile, copy_regular, move_plain
from course_lib.grader.modelcheck import Allowed, RefusedModel, check_saved_model

MANIFEST = "manifest.json"
MAX_FILE_BYTES = 256 * 1024 * 1024
MAP_ARRAYS_FROM_BYTES = 16 * 1024 * 1024
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
FILE_SUFFIX = {"model": ".keras", "saved_model": ".keras", "array": ".npy"}
"""The file each kind of hand-in is written to (every other kind: ``.json``).

:func:`export_namespace` runs in the kernel and cannot import this: a test holds the two
to the same names."""


def export_namespace(namespace: dict, spec: dict, out: str) -> None:
    """Write the objects named in ``spec`` from ``namespace`` into folder ``out``.

    Runs inside the student's kernel, so it is self-contained (it is injected as
    source text). ``spec`` maps a name to its kind: ``"model"``, ``"array"``,
    ``"value"``, ``"history"``, ``"callbacks"``, ``"optimizers"``, ``"saved_model"``
    (the value is a path: the file it names is copied, whatever API wrote it),
    ``"array_stats"`` (shape, dtype and statistics of a large array, not its data) or
    ``["function", [[args...], ...]]``. The manifest records each object's identity, so
    the graders can tell a reloaded model from the same object under a second name.
    """
    import json as _json
    import os as _os

    max_bytes = 256 * 1024 * 1024

    def plain(value):
        """Numbers, strings, lists and dicts, with numpy scalars/arrays converted."""
        if hasattr(value, "tolist") and not isinstance(value, str | bytes):
            return value.tolist()
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if value is None or isinstance(value, bool | int | float | str):
            return value
        return {"__class__": type(value).__name__, "repr": repr(value)[:200]}

    def describe(obj):
        """A Keras callback/optimizer: its class and settings."""
        config = {}
        try:
            config = obj.get_config()
        except Exception:  # callbacks have no get_config: read their public attributes
            config = {k: v for k, v in vars(obj).items() if not k.startswith("_") and k != "model"}
        return {"class": type(obj).__name__, "config": plain(config)}

    def write_json(name, value):
        with open(_os.path.join(out, name + ".json"), "w", encoding="utf-8") as handle:
            _json.dump(plain(value), handle)

    manifest = {}
    for name, kind in spec.items():
        if name not in namespace:
            manifest[name] = {"status": "missing"}
            continue
        value = namespace[name]
        try:
            if kind == "model":
                value.save(_os.path.join(out, name + ".keras"))
            elif kind == "array":
                import numpy as _np

                array = _np.asarray(value)
                if array.nbytes > max_bytes:  # not written: the grader would refuse it
                    manifest[name] = {
                        "status": "too_large",
                        "type": type(value).__name__,
                        "bytes": int(array.nbytes),
                        "dtype": str(array.dtype),
                        "shape": [int(n) for n in array.shape],
                    }
                    continue
                _np.save(_os.path.join(out, name + ".npy"), array, allow_pickle=False)
            elif kind == "value":
                write_json(name, value)
            elif kind == "history":
                history = getattr(value, "history", value)
                params = getattr(value, "params", {})
                trained = getattr(value, "model", None)
                write_json(
                    name,
                    {
                        "history": history,
                        "params": params,
                        "model": None if trained is None else id(trained),
                    },
                )
            elif kind == "array_stats":
                import numpy as _np

                array = _np.asarray(value)
                numeric = array.dtype.kind in "biuf" and array.size
                write_json(
                    name,
                    {
                        "shape": list(array.shape),
                        "dtype": str(array.dtype),
                        "min": float(array.min()) if numeric else None,
                        "max": float(array.max()) if numeric else None,
                        "mean": float(array.mean(dtype="float64")) if numeric else None,
                    },
                )
            elif kind == "saved_model":
                path = _os.fspath(value)
                if not _os.path.isfile(path):
                    raise FileNotFoundError(f"no file at {path!r}: was the model saved there?")
                if _os.path.getsize(path) > max_bytes:
                    raise ValueError(f"{path!r} is larger than {max_bytes // 2**20} MB")
                with (
                    open(path, "rb") as source,
                    open(_os.path.join(out, name + ".keras"), "wb") as target,
                ):
                    target.write(source.read())
            elif kind in ("callbacks", "optimizers"):
                items = (
                    value.items()
                    if isinstance(value, dict)
                    else enumerate(value if isinstance(value, list | tuple) else [value])
                )
                write_json(name, {str(k): describe(v) for k, v in items})
            elif isinstance(kind, list) and kind[0] == "function":
                results = []
                for args in kind[1]:
                    try:
                        results.append({"args": args, "result": plain(value(*args))})
                    except Exception as exc:
                        results.append(
                            {"args": args, "error": f"{type(exc).__name__}: {exc}"[:300]}
                        )
                write_json(name, results)
            else:
                raise ValueError(f"unknown hand-in kind {kind!r}")
            manifest[name] = {"status": "ok", "type": type(value).__name__, "object": id(value)}
        except Exception as exc:
            manifest[name] = {
                "status": "error",
                "type": type(value).__name__,
                "error": f"{type(exc).__name__}: {exc}"[:300],
            }
    with open(_os.path.join(out, "manifest.json"), "w", encoding="utf-8") as handle:
        _json.dump(manifest, handle)


def export_cell_source(spec: dict, out: Path) -> str:
    """The code of the cell the grader appends to a notebook to collect its hand-in.

    The export function is defined in a namespace of its own, so names the student's code
    happens to give to builtins (``list = [...]``, ``type = "..."``, ``open = None``) cannot
    break it; the user namespace is only read.
    """
    function = inspect.getsource(export_namespace)
    return (
        "def _course_export():\n"
        "    import builtins\n"
        "    namespace = {'__builtins__': builtins}\n"
        f"    builtins.exec({function!r}, namespace)\n"
        "    namespace['export_namespace'](\n"
        f"        builtins.globals(), {json.dumps(spec)!s}, {str(out)!r}\n"
        "    )\n"
        "_course_export()\n"
        "del _course_export\n"
    )


def handin_files(spec: dict) -> list[str]:
    """The file names a hand-in of ``spec`` consists of (the manifest first)."""
    names = [MANIFEST]
    for name, kind in spec.items():
        if not _NAME.fullmatch(name):
            raise ValueError(f"hand-in name {name!r} is not a Python identifier")
        names.append(name + FILE_SUFFIX.get(str(kind), ".json"))
    return names


def take_over(kernel_dir: Path, handin_dir: Path, spec: dict) -> list[str]:
    """Take the hand-in the kernel wrote into ``handin_dir``, a folder of the grader's own.

    Call it once the kernel's processes are gone. Only the files ``spec`` names are taken,
    and only regular files within :data:`MAX_FILE_BYTES` (never through a link): moved when
    plain (:func:`move_plain`, no copy of large arrays), else copied; returns a note for each
    file left behind.
    """
    handin_dir = Path(handin_dir)
    handin_dir.mkdir(parents=True, exist_ok=True)
    notes = []
    for name in handin_files(spec):
        source, target = Path(kernel_dir) / name, handin_dir / name
        try:
            if not move_plain(source, target, MAX_FILE_BYTES):
                copy_regular(source, target, MAX_FILE_BYTES)
        except FileNotFoundError:
            continue
        except RefusedFile as exc:
            target.unlink(missing_ok=True)
            notes.append(f"hand-in file left out: {exc}")
    return notes


def _too_large(name: str, entry: dict) -> CheckFailure:
    """An array the kernel did not hand in for its size (the entry is the kernel's: data)."""
    try:
        megabytes = f"{int(entry.get('bytes')) / 2**20:.0f} MB"
        shape = tuple(int(n) for n in entry.get("shape"))
    except (TypeError, ValueError):
        megabytes, shape = "too many bytes", None
    dtype = str(entry.get("dtype", ""))[:16]
    found = f"{megabytes}: a {dtype} array of shape {shape}" if shape is not None else megabytes
    hint = "hand in the array the task asks for"
    if dtype == "float64":
        hint = 'float64 takes twice the memory of float32: convert with .astype("float32")'
    return CheckFailure(
        f"`{name}` is too large to grade",
        expected=f"at most {MAX_FILE_BYTES / 2**20:.0f} MB",
        found=found,
        hint=hint,
    )


class Handin:
    """The hand-in folder of one graded notebook, read by the graders (never trusted blindly)."""

    def __init__(
        self, directory: Path, execution: dict | None = None, allowed: Allowed | None = None
    ) -> None:
        self.directory = Path(directory)
        self.execution = execution or {}
        self.allowed = allowed or Allowed()
        self._models: dict[str, object] = {}
        try:
            manifest = json.loads((self.directory / MANIFEST).read_text(encoding="utf-8"))
            if not isinstance(manifest, dict):
                raise ValueError("not a mapping")
        except (OSError, ValueError):
            manifest = {}
        self.manifest: dict = manifest

    # --- why something is missing -------------------------------------------------------------

    def missing(self, name: str) -> CheckFailure:
        """The failure saying, in plain words, why ``name`` was not handed in."""
        entry = self.manifest.get(name) or {}
        if entry.get("status") == "error" and entry.get("type") == "NoneType":
            return CheckFailure(
                f"`{name}` is None: did you `print` instead of `return`?",
                expected=f"`{name}` holding the object the task asks for",
                found="None: what a function without `return` gives (or print(...))",
                hint="a function hands its result back with `return`; print only shows it",
            )
        if entry.get("status") == "error":
            return CheckFailure(
                f"`{name}` could not be collected for grading",
                found=(
                    f"a {entry.get('type', 'value')} that failed to save: {entry.get('error', '')}"
                ),
                hint="hand in the kind of object the task asks for",
            )
        if entry.get("status") == "too_large":
            return _too_large(name, entry)
        left_out = [
            note
            for note in self.execution.get("incidents") or []
            if note.startswith(f"hand-in file left out: {name}.")
        ]
        if entry.get("status") == "ok" and left_out:
            return CheckFailure(
                f"`{name}` could not be taken for grading",
                found=left_out[0].removeprefix("hand-in file left out: "),
                hint="the graders read only plain files within the size limit",
            )
        stopped = self.execution.get("stopped")
        if stopped:
            return CheckFailure(f"`{name}` is not defined: {stopped}", undefined=name)
        if not self.manifest:
            failed_export = [
                note
                for note in self.execution.get("incidents") or []
                if note.startswith("collecting the answers failed")
            ]
            if failed_export:
                return CheckFailure(
                    f"`{name}` could not be collected for grading: {failed_export[0]}",
                    hint="code that replaces Python's or Jupyter's own functions breaks "
                    "the collection of your answers: remove it",
                )
        if self.execution.get("not_implemented"):
            return not_implemented(name)
        failed = self.execution.get("first_error")
        if failed:
            return CheckFailure(
                f"`{name}` is not defined: {failed}",
                hint="fix that cell, then run the notebook from the top",
                undefined=name,
            )
        return CheckFailure(
            f"`{name}` is not defined",
            hint="the task asks for a variable with exactly this name",
            undefined=name,
        )

    def has(self, name: str) -> bool:
        """Whether ``name`` was handed in (defined and saved)."""
        return (self.manifest.get(name) or {}).get("status") == "ok"

    def answer_source(self, grade_id: str) -> str:
        """The code of answer cell ``grade_id`` (recorded by the grader, never by the kernel)."""
        return str((self.execution.get("answers") or {}).get(grade_id, ""))

    def _path(self, name: str, suffix: str) -> Path:
        entry = self.manifest.get(name) or {}
        path = self.directory / f"{name}{suffix}"
        if entry.get("status") != "ok" or not path.is_file():
            raise self.missing(name)
        if path.is_symlink() or path.resolve().parent != self.directory.resolve():
            raise CheckFailure(
                f"`{name}` is a link to another file, not a hand-in",
                hint="the graders only read files the notebook itself saved",
            )
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CheckFailure(
                f"`{name}` is too large to grade",
                found=f"{path.stat().st_size / 1e6:.0f} MB",
                expected=f"at most {MAX_FILE_BYTES / 1e6:.0f} MB",
            )
        return path

    # --- typed readers ------------------------------------------------------------------------

    def model(self, name: str = "model"):
        """The named Keras model, reloaded from its file with ``safe_mode`` on."""
        if name not in self._models:
            path = self._path(name, ".keras")
            try:
                check_saved_model(path, self.allowed)
            except RefusedModel as exc:
                raise CheckFailure(
                    f"`{name}` could not be reloaded for grading",
                    found=str(exc),
                    hint="use only the Keras layers this lesson teaches "
                    "(no Lambda layers, custom classes or functions)",
                ) from None
            import keras

            try:
                self._models[name] = keras.saving.load_model(path, safe_mode=True, compile=True)
            except Exception as exc:
                raise CheckFailure(
                    f"`{name}` could not be reloaded for grading",
                    found=f"{type(exc).__name__}: {_first_line(exc)}",
                    hint="use only built-in Keras layers (no Lambda or custom classes)",
                ) from None
        return self._models[name]

    def models(self, *names: str) -> tuple:
        """Several models at once; every one that is missing is named in one failure."""
        from course_lib.checks import gather

        loaded = {}
        with gather() as each:
            for name in names:
                with each:
                    loaded[name] = self.model(name)
        return tuple(loaded[name] for name in names)

    def array(self, name: str):
        """The named array (no pickles); a large one memory-mapped, copied on write only.

        The hand-in is the grader's own copy and nothing writes it any more, so mapping it
        spares the graders a copy of every training image in their memory.
        """
        import numpy as np

        path = self._path(name, ".npy")
        if path.stat().st_size > MAP_ARRAYS_FROM_BYTES:
            try:
                return np.load(path, mmap_mode="c", allow_pickle=False)
            except ValueError:
                pass  # not mappable (objects, a damaged file): the plain load below says why
        try:
            return np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise CheckFailure(
                f"`{name}`: not a numeric array",
                found=str(exc).splitlines()[0][:200],
                hint="hand in a NumPy array of numbers",
            ) from None

    def history(self, name: str = "history"):
        """A ``History`` record as a :class:`~course_lib.training_checks.FitRecord`."""
        from course_lib.training_checks import FitRecord

        return FitRecord.from_record(name, self.value(name))

    def same_object(self, first: str, second: str) -> bool:
        """Whether two names held the very same object in the kernel (one was not a copy)."""
        a = (self.manifest.get(first) or {}).get("object")
        b = (self.manifest.get(second) or {}).get("object")
        return isinstance(a, int) and a == b

    def value(self, name: str):
        """A plain answer (number, string, list, dict) or a JSON record of history/settings."""
        path = self._path(name, ".json")
        try:
            return json.loads(path.read_text(encoding="utf-8"), parse_constant=lambda c: math.nan)
        except ValueError:
            raise CheckFailure(
                f"`{name}` could not be read back", hint="hand in plain values"
            ) from None


def _first_line(exc: BaseException) -> str:
    """The first line of an exception message, at most 200 characters."""
    text = str(exc)
    return text.splitlines()[0][:200] if text else ""
