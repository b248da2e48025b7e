"""Does a hand-in round-trip, and does a missing or forged one fail with a plain message?"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from keras import layers

from course_lib.checks import CheckFailure
from course_lib.grader.handin import (
    MAP_ARRAYS_FROM_BYTES,
    Handin,
    export_cell_source,
    export_namespace,
    handin_files,
    take_over,
)

SPEC = {
    "model": "model",
    "X": "array",
    "answer": "value",
    "history": "history",
    "callbacks": "callbacks",
    "optimizers": "optimizers",
    "dense_params": ["function", [[100, 10], [3, 0]]],
    "missing_name": "value",
    "broken_model": "model",
}


@pytest.fixture
def namespace():
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(2)])
    model.compile(loss="mse", optimizer="adam")
    history = model.fit(
        np.ones((4, 3)), np.ones((4, 2)), epochs=2, verbose=0, validation_split=0.25
    )
    return {
        "model": model,
        "X": np.arange(6.0).reshape(2, 3),
        "answer": {"binary": {"loss": "binary_crossentropy"}, "n": np.int64(7)},
        "history": history,
        "callbacks": [keras.callbacks.EarlyStopping(monitor="val_loss", patience=3)],
        "optimizers": {"sgd": keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)},
        "dense_params": lambda n_in, n_units: n_in * n_units + n_units if n_units else 1 / 0,
        "broken_model": "not a model",
    }


def test_export_then_read_back(tmp_path, namespace):
    export_namespace(namespace, SPEC, str(tmp_path))
    handin = Handin(tmp_path)
    np.testing.assert_allclose(
        handin.model("model").predict(np.ones((1, 3)), verbose=0),
        namespace["model"].predict(np.ones((1, 3)), verbose=0),
    )
    np.testing.assert_array_equal(handin.array("X"), namespace["X"])
    assert handin.value("answer") == {"binary": {"loss": "binary_crossentropy"}, "n": 7}
    assert len(handin.value("history")["history"]["val_loss"]) == 2
    assert handin.value("callbacks")["0"]["class"] == "EarlyStopping"
    assert handin.value("callbacks")["0"]["config"]["monitor"] == "val_loss"
    sgd = handin.value("optimizers")["sgd"]
    assert sgd["class"] == "SGD" and sgd["config"]["momentum"] == pytest.approx(0.9)
    results = handin.value("dense_params")
    assert results[0] == {"args": [100, 10], "result": 1010}
    assert results[1]["error"].startswith("ZeroDivisionError")


def test_missing_and_unsavable_names_fail_plainly(tmp_path, namespace):
    export_namespace(namespace, SPEC, str(tmp_path))
    handin = Handin(tmp_path, {"not_implemented": True})
    with pytest.raises(CheckFailure) as excinfo:
        handin.value("missing_name")
    assert (
        str(excinfo.value).splitlines()[0] == "not implemented yet: `missing_name` is not defined"
    )
    with pytest.raises(CheckFailure) as excinfo:
        handin.model("broken_model")
    assert str(excinfo.value).splitlines()[0] == "`broken_model` could not be collected for grading"


def test_missing_name_explains_a_crash_or_an_error(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"model": {"status": "missing"}}))
    stopped = Handin(
        tmp_path, {"stopped": "the kernel died (exit status 3)", "not_implemented": True}
    )
    with pytest.raises(
        CheckFailure, match=r"^`model` is not defined: the kernel died \(exit status 3\)"
    ):
        stopped.model("model")
    errored = Handin(
        tmp_path,
        {"first_error": "the cell starting `x = 1/0` raised ZeroDivisionError: division by zero"},
    )
    with pytest.raises(
        CheckFailure, match=r"^`model` is not defined: the cell starting `x = 1/0` raised"
    ):
        errored.model("model")


def test_forged_manifest_without_files_is_not_believed(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"model": {"status": "ok"}}))
    with pytest.raises(CheckFailure, match=r"^`model` is not defined"):
        Handin(tmp_path).model("model")
    (tmp_path / "manifest.json").write_text("[]")
    assert Handin(tmp_path).manifest == {}


def test_a_pickled_array_is_refused(tmp_path):
    np.save(tmp_path / "X.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "manifest.json").write_text(json.dumps({"X": {"status": "ok"}}))
    with pytest.raises(CheckFailure, match=r"^`X`: not a numeric array"):
        Handin(tmp_path).array("X")


def test_a_large_array_is_mapped_and_read_as_saved(tmp_path):
    """Is an array over the mapping size read back equal, without pickles, as before?"""
    big = np.arange(5_000_000, dtype="float32").reshape(5000, 1000)  # 20 MB
    np.save(tmp_path / "X.npy", big)
    np.save(tmp_path / "O.npy", np.array([b"x" * 20_000_000], dtype=object), allow_pickle=True)
    (tmp_path / "manifest.json").write_text(
        json.dumps({"X": {"status": "ok"}, "O": {"status": "ok"}})
    )
    assert (tmp_path / "X.npy").stat().st_size > MAP_ARRAYS_FROM_BYTES
    array = Handin(tmp_path).array("X")
    assert isinstance(array, np.memmap)
    np.testing.assert_array_equal(array, big)
    array[0, 0] = -1.0  # copy on write: the hand-in file stays as saved
    assert np.load(tmp_path / "X.npy")[0, 0] == 0.0
    assert (tmp_path / "O.npy").stat().st_size > MAP_ARRAYS_FROM_BYTES
    with pytest.raises(CheckFailure, match=r"^`O`: not a numeric array") as info:
        Handin(tmp_path).array("O")
    assert "allow_pickle=False" in info.value.render()


def test_an_array_over_the_limit_is_not_written_and_named_for_its_size(tmp_path):
    """Is a float64 array too large to hand in named so, with its size and dtype?"""
    big = np.zeros((60_000, 28, 28))  # 359 MB of float64, never touched (calloc)
    export_namespace({"X": big}, {"X": "array"}, str(tmp_path))
    assert not (tmp_path / "X.npy").exists()
    with pytest.raises(CheckFailure) as info:
        Handin(tmp_path, {"first_error": "the cell starting `x` raised ValueError"}).array("X")
    lines = [line.strip() for line in info.value.render().splitlines()]
    assert lines[0] == "`X` is too large to grade"
    assert "found:    359 MB: a float64 array of shape (60000, 28, 28)" in lines
    assert any(line.startswith("hint:") and "float32" in line for line in lines)


def test_a_file_refused_at_the_take_over_is_named_with_the_reason(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"X": {"status": "ok"}}))
    incident = "hand-in file left out: X.npy is 400 MB, over the 256 MB limit"
    with pytest.raises(CheckFailure) as info:
        Handin(tmp_path, {"incidents": [incident]}).array("X")
    assert info.value.render().splitlines()[0] == "`X` could not be taken for grading"
    assert "X.npy is 400 MB, over the 256 MB limit" in info.value.render()


def test_lambda_layer_model_is_refused_in_safe_mode(tmp_path):
    model = keras.Sequential([keras.Input(shape=(2,)), layers.Lambda(lambda x: x * 2)])
    export_namespace({"model": model}, {"model": "model"}, str(tmp_path))
    with pytest.raises(CheckFailure, match=r"^`model` could not be reloaded for grading"):
        Handin(tmp_path).model("model")


def test_export_cell_is_self_contained(tmp_path):
    source = export_cell_source({"answer": "value"}, tmp_path)
    namespace = {"answer": 42}
    exec(compile(source, "<export>", "exec"), namespace)
    assert json.loads((tmp_path / "answer.json").read_text()) == 42
    assert "export_namespace" not in namespace


def test_saved_file_identity_and_fit_evidence_are_handed_in(tmp_path, namespace, monkeypatch):
    monkeypatch.chdir(tmp_path)
    keras.saving.save_model(namespace["model"], "saved.keras")
    namespace.update(
        model_path="saved.keras",
        missing_path="nowhere.keras",
        alias=namespace["model"],
        reloaded=keras.saving.load_model("saved.keras"),
        nothing=None,
    )
    spec = {
        **SPEC,
        "model_path": "saved_model",
        "missing_path": "saved_model",
        "alias": "model",
        "reloaded": "model",
        "nothing": "model",
    }
    out = tmp_path / "handin"
    out.mkdir()
    export_namespace(namespace, spec, str(out))
    handin = Handin(out)
    np.testing.assert_allclose(
        handin.model("model_path").predict(np.ones((1, 3)), verbose=0),
        namespace["model"].predict(np.ones((1, 3)), verbose=0),
    )
    assert handin.manifest["missing_path"]["error"].startswith("FileNotFoundError: no file at")
    assert handin.same_object("alias", "model") and not handin.same_object("reloaded", "model")
    fit = handin.history("history")
    assert fit.epoch_budget == 2 and fit.steps == 1 and len(fit.values("val_loss")) == 2
    assert fit.model == handin.manifest["model"]["object"]
    with pytest.raises(CheckFailure) as excinfo:
        handin.model("nothing")
    assert str(excinfo.value).splitlines()[0] == (
        "`nothing` is None: did you `print` instead of `return`?"
    )


def test_the_take_over_keeps_every_file_the_export_writes(tmp_path, namespace, monkeypatch):
    """Every kind of hand-in the kernel writes reaches the graders' own folder."""
    monkeypatch.chdir(tmp_path)
    keras.saving.save_model(namespace["model"], "saved.keras")
    namespace["model_path"] = tmp_path / "saved.keras"  # a Path, as scratch_dir gives
    namespace["stats"] = np.ones((5, 3))
    spec = {
        name: kind for name, kind in SPEC.items() if name not in ("missing_name", "broken_model")
    }
    spec.update(model_path="saved_model", stats="array_stats")
    written, kept = tmp_path / "kernel", tmp_path / "grader"
    written.mkdir()
    kept.mkdir()
    export_namespace(namespace, spec, str(written))
    assert sorted(p.name for p in written.iterdir()) == sorted(handin_files(spec))
    take_over(written, kept, spec)
    assert sorted(p.name for p in kept.iterdir()) == sorted(handin_files(spec))
    handin = Handin(kept)
    assert all(handin.has(name) for name in spec)
    np.testing.assert_allclose(
        handin.model("model_path").predict(np.ones((1, 3)), verbose=0),
        namespace["model"].predict(np.ones((1, 3)), verbose=0),
    )
