"""Lesson 07's pretrained network and transfer checks: is the shipped base what it claims to be,
and does each check accept the right model and name the mistake in a wrong one?

Nothing here trains: models are built from the shipped weights, and "training" is simulated by
changing weights by hand.
"""

from __future__ import annotations

import shutil

import keras
import numpy as np
import pytest
from keras import layers

from course_lib import data, pretrained, transfer_checks
from course_lib.checks import CheckFailure
from course_lib.training_checks import FitRecord

from .conftest import SHARED_DATA

needs_mnist = pytest.mark.skipif(
    not (SHARED_DATA / "mnist").is_dir(), reason="no ../shared/data beside the repo"
)


# --- the shipped network ------------------------------------------------------------------------


def test_shipped_weights_match_their_recorded_checksum():
    filename, recorded = pretrained.WEIGHTS[pretrained.DIGITS_0_4]
    path = pretrained.WEIGHTS_DIR / filename
    assert pretrained.sha256_of(path) == recorded
    assert path.stat().st_size < 1_000_000, "the committed weights file should stay small"


def test_a_damaged_weights_file_is_refused(tmp_path, monkeypatch):
    filename, _ = pretrained.WEIGHTS[pretrained.DIGITS_0_4]
    damaged = tmp_path / filename
    shutil.copyfile(pretrained.WEIGHTS_DIR / filename, damaged)
    content = bytearray(damaged.read_bytes())
    content[len(content) // 2] ^= 0xFF
    damaged.write_bytes(content)
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(ValueError, match="damaged: SHA-256"):
        pretrained.MiniVGG(include_top=False)


def test_without_its_top_the_base_ends_with_a_feature_map():
    base = pretrained.MiniVGG(include_top=False)
    assert [layer.name for layer in base.layers[1:]] == list(transfer_checks.BASE_LAYERS)
    assert tuple(base.output.shape[1:]) == transfer_checks.FEATURE_SHAPE
    full = pretrained.MiniVGG(include_top=True)
    assert [layer.name for layer in full.layers[-4:]] == [
        "top_flatten",
        "top_fc1",
        "top_dropout",
        "top_predictions",
    ]
    for mine, theirs in zip(base.get_weights(), full.get_weights(), strict=False):
        np.testing.assert_array_equal(mine, theirs)


@needs_mnist
def test_the_pretrained_network_reads_the_source_digits():
    source = data.load_transfer_source()
    full = pretrained.MiniVGG(include_top=True)
    x = transfer_checks.base_input(source.x_test[:1000])
    accuracy = float((full.predict(x, verbose=0).argmax(axis=1) == source.y_test[:1000]).mean())
    assert accuracy > 0.99


def test_pretrained_weights_need_three_channels_and_the_trained_size():
    with pytest.raises(ValueError, match="3 channels"):
        pretrained.MiniVGG(include_top=False, input_shape=(32, 32, 1))
    with pytest.raises(ValueError, match=r"input_shape=\(32, 32, 3\)"):
        pretrained.MiniVGG(include_top=False, input_shape=(28, 28, 3))
    with pytest.raises(ValueError, match="weights must be None"):
        pretrained.MiniVGG(weights="imagenet")
    assert pretrained.MiniVGG(weights=None, input_shape=(32, 32, 1)).input_shape == (
        None,
        32,
        32,
        1,
    )


def test_weights_none_and_a_weights_path(tmp_path):
    shipped = pretrained.MiniVGG(include_top=False)
    random = pretrained.MiniVGG(include_top=False, weights=None)
    assert not np.allclose(shipped.get_weights()[0], random.get_weights()[0])
    path = tmp_path / "copy.weights.h5"
    pretrained.MiniVGG(include_top=True).save_weights(path)
    from_path = pretrained.MiniVGG(include_top=False, weights=path)
    np.testing.assert_array_equal(from_path.get_weights()[0], shipped.get_weights()[0])


@needs_mnist
def test_the_target_task_is_fixed_and_disjoint():
    target = data.load_transfer_target()
    assert target.x_train.shape == (100, 28, 28) and target.x_val.shape == (250, 28, 28)
    assert np.bincount(target.y_train).tolist() == [20] * 5
    assert target.x_test.shape == (4861, 28, 28) and set(target.y_test.tolist()) == set(range(5))
    assert target.class_names == ("5", "6", "7", "8", "9")
    (x_train, y_train), _ = data.load_mnist()
    digits = y_train[np.isin(y_train, data.TARGET_DIGITS)]
    first = np.flatnonzero(y_train == 5)[:20]
    np.testing.assert_array_equal(x_train[first], target.x_train[target.y_train == 0])
    assert len(digits) > 100


# --- the images -----------------------------------------------------------------------------------

RAW = np.random.default_rng(0).integers(0, 256, size=(4, 28, 28), dtype=np.uint8)


def failure(check, *args, **kwargs) -> str:
    with pytest.raises(CheckFailure) as caught:
        check(*args, **kwargs)
    return caught.value.summary


def test_base_input_is_accepted_when_padded_stacked_and_scaled():
    prepared = transfer_checks.base_input(RAW)
    assert prepared.shape == (4, 32, 32, 3) and prepared.dtype == np.float32
    assert prepared[:, :2].max() == 0 and prepared[:, 2:30, 2:30, 1].max() == RAW.max() / 255
    transfer_checks.check_base_input("X", prepared, RAW)


@pytest.mark.parametrize(
    ("value", "summary"),
    [
        (
            transfer_checks.base_input(RAW)[..., :1],
            "`X`: 1 channel, the network needs 3",
        ),
        (
            np.repeat(RAW[..., None], 3, axis=-1).astype("float32") / 255,
            "`X`: 28 × 28 images, the network needs 32 × 32",
        ),
        (
            np.moveaxis(transfer_checks.base_input(RAW), -1, 1),
            "`X`: channels in the wrong place",
        ),
        (transfer_checks.base_input(RAW) * 255, "`X`: pixels not scaled to [0, 1]"),
        (
            np.roll(transfer_checks.base_input(RAW), 2, axis=1),
            "`X`: not the padded images",
        ),
        (
            transfer_checks.base_input(RAW) * np.array([1.0, 0.5, 0.5], dtype="float32"),
            "`X`: the three channels differ",
        ),
        (transfer_checks.base_input(RAW).astype("float64"), "`X`: wrong dtype"),
    ],
)
def test_base_input_mistakes_are_named(value, summary):
    assert failure(transfer_checks.check_base_input, "X", value, RAW) == summary


# --- the model's parts ----------------------------------------------------------------------------


def transfer_model(*, include_top=False, freeze=True, softmax=True, inline=False):
    base = pretrained.MiniVGG(include_top=include_top)
    base.trainable = not freeze
    if inline:
        inputs, features = base.input, base.output
    else:
        inputs = keras.Input(shape=(32, 32, 3))
        features = base(inputs, training=False)
    x = layers.Dropout(0.3)(layers.Flatten()(features))
    outputs = layers.Dense(5, activation="softmax" if softmax else None)(x)
    model = keras.Model(inputs, outputs)
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        metrics=["accuracy"],
    )
    return model, base


@pytest.fixture(scope="module")
def reference():
    return pretrained.MiniVGG(include_top=False)


@pytest.mark.parametrize("inline", [False, True], ids=["nested", "inline"])
def test_a_frozen_base_with_a_new_head_passes(reference, inline):
    model, _ = transfer_model(inline=inline)
    transfer_checks.check_pretrained_base(model)
    transfer_checks.check_head(model)
    transfer_checks.check_base_frozen(model, reference)
    assert transfer_checks.trainable_params(model) == 4 * 4 * 64 * 5 + 5


def test_a_top_left_on_is_named_once(reference):
    model, _ = transfer_model(include_top=True)
    assert failure(transfer_checks.check_pretrained_base, model) == (
        "`model`: the base's top is still there"
    )
    transfer_checks.check_head(model)
    transfer_checks.check_base_frozen(model, reference)


def test_head_mistakes_are_named():
    model, _ = transfer_model(softmax=False)
    assert failure(transfer_checks.check_head, model) == "output layer: wrong activation"
    no_base = keras.Sequential([keras.Input((32, 32, 3)), layers.Flatten(), layers.Dense(5)])
    assert failure(transfer_checks.check_head, no_base) == "`model`: the pretrained base is missing"


def test_an_unfrozen_or_retrained_base_is_named(reference):
    model, _ = transfer_model(freeze=False)
    assert failure(transfer_checks.check_base_frozen, model, reference, what="m") == (
        "`m`: the base is not frozen"
    )
    model, base = transfer_model()
    layer = base.get_layer("block1_conv1")
    layer.set_weights([w + 0.01 for w in layer.get_weights()])
    assert failure(transfer_checks.check_base_frozen, model, reference, what="m") == (
        "`m`: the base's weights changed while the head was trained"
    )


def fine_tuned(before, *, learning_rate=1e-4, unfreeze=("block3",), train=True):
    """A copy of ``before`` with some blocks unfrozen, recompiled, block 3 moved a little."""
    model = keras.models.clone_model(before)
    model.set_weights(before.get_weights())
    for layer in transfer_checks.split_model(model).base:
        layer.trainable = layer.name.startswith(unfreeze)
        if train and layer.name.startswith("block3") and layer.weights:
            layer.set_weights([w + 0.001 for w in layer.get_weights()])
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        metrics=["accuracy"],
    )
    return model


def test_fine_tuning_the_top_block_with_a_small_step_passes():
    before, _ = transfer_model(inline=True)
    transfer_checks.check_fine_tuned(fine_tuned(before), before, max_learning_rate=1e-4)


@pytest.mark.parametrize(
    ("changes", "summary"),
    [
        ({"learning_rate": 1e-3}, "`model`: fine-tuning learning rate too large"),
        ({"unfreeze": ("block2", "block3")}, "`model`: more than the top block is unfrozen"),
        ({"unfreeze": ("none",)}, "`model`: the top block is not unfrozen"),
        ({"train": False}, "`model`: block 3 did not train"),
    ],
)
def test_fine_tuning_mistakes_are_named(changes, summary):
    before, _ = transfer_model(inline=True)
    model = fine_tuned(before, **changes)
    assert failure(transfer_checks.check_fine_tuned, model, before, max_learning_rate=1e-4) == (
        summary
    )


def test_a_scratch_model_must_start_from_random_weights(reference):
    scratch, _ = transfer_model(freeze=False)
    assert failure(transfer_checks.check_starts_untrained, scratch, reference) == (
        "`model_scratch`: starts from the pretrained weights"
    )
    random_base = pretrained.MiniVGG(include_top=False, weights=None)
    inputs = keras.Input((32, 32, 3))
    x = layers.Dense(5, activation="softmax")(layers.Flatten()(random_base(inputs)))
    transfer_checks.check_starts_untrained(keras.Model(inputs, x), reference)
    frozen, _ = transfer_model()
    assert failure(transfer_checks.check_starts_untrained, frozen, reference) == (
        "`model_scratch`: part of it is frozen"
    )


def test_model_inputs_follow_a_rescaling_layer():
    model, _ = transfer_model()
    np.testing.assert_array_equal(
        transfer_checks.model_inputs(model, RAW), transfer_checks.base_input(RAW)
    )
    base = pretrained.MiniVGG(include_top=False)
    rescaled = keras.Sequential([keras.Input((32, 32, 3)), layers.Rescaling(1 / 255), base])
    assert transfer_checks.model_inputs(rescaled, RAW).max() == RAW.max()
    grey = keras.Sequential([keras.Input((32, 32, 1)), layers.Flatten(), layers.Dense(5)])
    assert failure(transfer_checks.model_inputs, grey, RAW) == "`model`: wrong input shape"


def test_same_network_compares_base_and_head_and_a_top_left_on_the_copy_only():
    model, _ = transfer_model()
    with_top, _ = transfer_model(include_top=True)
    transfer_checks.check_same_network(with_top, model)  # check_pretrained_base reports that
    assert failure(transfer_checks.check_same_network, model, with_top) == (
        "`model_scratch`: the base's top is still there"
    )
    no_softmax, _ = transfer_model(softmax=False)
    assert failure(transfer_checks.check_same_network, model, no_softmax) == (
        "output layer: wrong activation"
    )
    bare = keras.Sequential([keras.Input((32, 32, 3)), layers.Flatten(), layers.Dense(5)])
    assert failure(transfer_checks.check_same_network, model, bare) == (
        "`model_scratch`: the pretrained base is missing"
    )


def _fit(name: str, epochs_run: int, budget: int | None = None) -> FitRecord:
    losses = [1.0 - 0.01 * i for i in range(epochs_run)]
    params = {"epochs": budget or epochs_run, "steps": 4}
    return FitRecord(name, {"loss": losses, "val_loss": losses}, params)


def test_the_scratch_network_trains_as_long_as_both_transfer_phases():
    phases = [_fit("history_head", 20), _fit("history_fine", 10, budget=30)]  # initial_epoch=20
    transfer_checks.check_trained_as_long(_fit("history_scratch", 30), phases)
    with pytest.raises(CheckFailure) as excinfo:
        transfer_checks.check_trained_as_long(_fit("history_scratch", 20), phases)
    assert str(excinfo.value).splitlines()[0] == (
        "`history_scratch`: not as many epochs as the transfer"
    )
    assert excinfo.value.expected.startswith("30 epochs: 20 + 10")
    assert excinfo.value.found == "20 epochs"
