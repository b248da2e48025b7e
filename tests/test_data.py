"""Is an offline data folder imported only when its checksums match, and reported truthfully?"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import data
from course_lib.admin import datasets

from .conftest import SHARED_DATA

needs_shared = pytest.mark.skipif(
    not (SHARED_DATA / "mnist").is_dir(), reason="no ../shared/data beside the repo"
)


def test_splits_are_fixed_and_disjoint():
    first, second = data.load_diabetes_split(), data.load_diabetes_split()
    assert first.X_train.shape == (353, 10) and first.X_test.shape == (89, 10)
    assert (first.X_test == second.X_test).all()
    cancer = data.load_breast_cancer_split()
    assert set(cancer.y_train.tolist()) == {0, 1}


def test_check_cache_reports_missing_and_corrupt(tmp_path):
    states = {s.file.name: s.state for s in datasets.check_cache(tmp_path)}
    assert set(states.values()) == {"missing"}
    (tmp_path / "mnist.npz").write_bytes(b"not mnist")
    states = {s.file.name: s.state for s in datasets.check_cache(tmp_path)}
    assert states["mnist.npz"] == "corrupt"


def test_import_refuses_a_file_with_the_wrong_checksum(tmp_path):
    folder = tmp_path / "offline"
    folder.mkdir()
    (folder / "mnist.npz").write_bytes(b"x" * 100)
    target = tmp_path / "cache"
    states = {s.file.name: s for s in datasets.import_folder(folder, target)}
    assert states["mnist.npz"].state == "corrupt"
    assert states["fashion-mnist/t10k-labels-idx1-ubyte.gz"].state == "not in folder"
    assert not (target / "mnist.npz").exists()


def test_import_of_a_missing_folder_fails(tmp_path):
    with pytest.raises(FileNotFoundError):
        datasets.import_folder(tmp_path / "nope", tmp_path)


@needs_shared
def test_import_shared_folder_places_files_where_keras_looks(tmp_path):
    target = tmp_path / "datasets"
    states = {s.file.name: s.state for s in datasets.import_folder(SHARED_DATA, target)}
    assert set(states.values()) == {"imported"}
    assert {s.state for s in datasets.check_cache(target)} == {"ok"}
    again = {s.state for s in datasets.import_folder(SHARED_DATA, target)}
    assert again == {"already present"}


def test_the_graders_process_keeps_mnist_loaded_and_read_only(monkeypatch):
    monkeypatch.setattr(data, "_kept", None)  # as a kernel starts: every load is its own
    (x_own, _), _ = data.load_mnist()
    assert x_own.flags.writeable and data.load_mnist()[0][0] is not x_own
    data.keep_loaded()
    kept = data.load_mnist()
    assert data.load_mnist() is kept
    (x_train, y_train), (x_test, y_test) = kept
    assert np.array_equal(x_train, x_own)
    for array in (x_train, y_train, x_test, y_test):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 1
