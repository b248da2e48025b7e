"""Offline import of the dataset files Keras downloads, checksum-verified.

Keras downloads MNIST/Fashion-MNIST into ``$KERAS_HOME/datasets`` (default
``~/.keras/datasets``). An air-gapped lab imports a folder of the published files once
with :func:`import_folder` (``course data import DIR``): every file is checked against
its published SHA-256 before it is placed where Keras looks. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DatasetFile:
    """A file Keras loads, where it goes in the Keras cache, and its published checksum."""

    name: str
    cache_path: str
    sha256: str
    size: int


KNOWN_FILES: tuple[DatasetFile, ...] = (
    DatasetFile(
        "mnist.npz",
        "mnist.npz",
        "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
        11_490_434,
    ),
    DatasetFile(
        "fashion-mnist/train-images-idx3-ubyte.gz",
        "fashion-mnist/train-images-idx3-ubyte.gz",
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        26_421_880,
    ),
    DatasetFile(
        "fashion-mnist/train-labels-idx1-ubyte.gz",
        "fashion-mnist/train-labels-idx1-ubyte.gz",
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        29_515,
    ),
    DatasetFile(
        "fashion-mnist/t10k-images-idx3-ubyte.gz",
        "fashion-mnist/t10k-images-idx3-ubyte.gz",
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        4_422_102,
    ),
    DatasetFile(
        "fashion-mnist/t10k-labels-idx1-ubyte.gz",
        "fashion-mnist/t10k-labels-idx1-ubyte.gz",
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        5_148,
    ),
)


def keras_datasets_dir() -> Path:
    """Where Keras looks for downloaded datasets."""
    home = os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")
    return Path(home) / "datasets"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class FileState:
    file: DatasetFile
    state: str  # "ok", "missing", "corrupt", "imported", "already present", "not in folder"
    detail: str = ""


def _find_in(folder: Path, known: DatasetFile) -> Path | None:
    """The file for ``known`` in ``folder``: by its cache path, else by a matching name and hash."""
    direct = folder / known.cache_path
    if direct.is_file():
        return direct
    basename = Path(known.name).name
    for candidate in folder.rglob(basename):
        if candidate.is_file() and candidate.stat().st_size == known.size:
            return candidate
    return None


def import_folder(folder: Path, target: Path | None = None) -> list[FileState]:
    """Copy every known dataset file found in ``folder`` into the Keras cache, checksum first.

    A file whose checksum does not match is not copied. Nothing is downloaded.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no such folder: {folder}")
    target = target or keras_datasets_dir()
    states = []
    for known in KNOWN_FILES:
        source = _find_in(folder, known)
        if source is None:
            states.append(FileState(known, "not in folder"))
            continue
        digest = sha256_of(source)
        if digest != known.sha256:
            states.append(
                FileState(
                    known, "corrupt", f"{source}: sha256 {digest[:12]}… ≠ {known.sha256[:12]}…"
                )
            )
            continue
        destination = target / known.cache_path
        if destination.is_file() and sha256_of(destination) == known.sha256:
            states.append(FileState(known, "already present", str(destination)))
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        tmp = destination.with_suffix(destination.suffix + ".part")
        shutil.copyfile(source, tmp)
        os.replace(tmp, destination)
        states.append(FileState(known, "imported", str(destination)))
    return states


def check_cache(target: Path | None = None) -> list[FileState]:
    """What the Keras cache holds: each known file ok, missing or corrupt."""
    target = target or keras_datasets_dir()
    states = []
    for known in KNOWN_FILES:
        path = target / known.cache_path
        if not path.is_file():
            states.append(FileState(known, "missing", str(path)))
        elif sha256_of(path) != known.sha256:
            states.append(
                FileState(known, "corrupt", f"{path}: checksum differs (Keras would re-download)")
            )
        else:
            states.append(FileState(known, "ok", str(path)))
    return states
