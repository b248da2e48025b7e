"""Do the fit-evidence checks read a History as the fit call that made it, and name mistakes?"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.checks import CheckFailure
from course_lib.grader.handin import Handin, export_namespace
from course_lib.training_checks import (
    FitRecord,
    check_best_weights_restored,
    check_early_stopping,
    check_fit,
    check_not_validated_on_test,
    check_pixel_statistics,
    check_pixels_scaled,
    check_stopped_early,
    closest_epoch,
)


def fit_record(steps: int, epochs: int = 100, validated: bool = True, ran: int = 12):
    history = {"loss": [1.0] * ran}
    if validated:
        history["val_loss"] = [0.5 - 0.01 * i for i in range(ran)]
    return FitRecord("history", history, {"epochs": epochs, "steps": steps, "verbose": 2})


def first_line(excinfo) -> str:
    return str(excinfo.value).splitlines()[0]


def test_check_fit_accepts_the_given_call():
    check_fit(fit_record(375), n_rows=60_000, batch_size=128, min_epochs=20, validation_split=0.2)
    check_fit(fit_record(18, ran=100), n_rows=353, batch_size=16, epochs=100, validation_split=0.2)
    check_fit(fit_record(469, 4, False, 4), n_rows=60_000, batch_size=128, epochs=4)


def test_check_fit_tells_separate_validation_data_from_a_split():
    with pytest.raises(CheckFailure) as excinfo:
        check_fit(fit_record(469), n_rows=60_000, batch_size=128, validation_split=0.2)
    assert first_line(excinfo) == "training: not the rows and batch size of the fit call given"
    assert excinfo.value.found == (
        "469 batches per epoch: all 60,000 rows in batches of 128 "
        "(validation data passed separately)"
    )


def test_check_fit_names_every_difference():
    with pytest.raises(CheckFailure) as excinfo:
        check_fit(
            fit_record(23, epochs=1, validated=False, ran=1),
            n_rows=353,
            batch_size=16,
            epochs=100,
            validation_split=0.2,
        )
    assert first_line(excinfo) == (
        "3 problems: training: wrong number of epochs; training: no validation data; "
        "training: not the rows and batch size of the fit call given"
    )
    with pytest.raises(CheckFailure) as excinfo:
        check_fit(fit_record(1500), n_rows=60_000, batch_size=128, validation_split=0.2)
    assert "in batches of 32 (Keras's default batch_size)" in excinfo.value.found


def test_check_fit_wants_separate_validation_data_when_the_task_passes_it():
    check_fit(fit_record(4, 30, ran=30), n_rows=100, batch_size=32, validation_data=True)
    with pytest.raises(CheckFailure) as excinfo:
        check_fit(
            fit_record(4, 30, validated=False, ran=30),
            n_rows=100,
            batch_size=32,
            validation_data=True,
            label="from scratch",
        )
    assert first_line(excinfo) == "from scratch: no validation data"
    assert excinfo.value.expected == (
        "fit(..., validation_data=(x, y)): val_loss recorded every epoch"
    )


def test_a_callback_never_passed_to_fit_is_named_not_a_grader_crash():
    # An EarlyStopping that never ran records no stopped or best epoch.
    fit = fit_record(375, epochs=100, ran=100)
    with pytest.raises(CheckFailure) as excinfo:
        check_stopped_early(fit, {"monitor": "val_loss", "stopped_epoch": None})
    assert first_line(excinfo) == "training: did not stop early"
    assert excinfo.value.found == "100 of 100 epochs run"
    check_stopped_early(fit_record(375, epochs=100, ran=12), {"stopped_epoch": 11})
    losses = [0.5, 0.3, 0.4, 0.45, 0.5]
    overfit = FitRecord("history", {"loss": losses, "val_loss": losses}, {"epochs": 5})
    with pytest.raises(CheckFailure) as excinfo:  # the last epoch's weights, not the best's
        check_best_weights_restored(0.5, overfit, {"best_epoch": float("nan")})
    assert first_line(excinfo) == "training: the model does not have the best epoch's weights"
    assert excinfo.value.expected == "validation loss 0.3000 (epoch 2, the best one)"
    check_best_weights_restored(0.3, overfit, {"best_epoch": "n/a"})
    # two epochs after the best one, 0.5 % worse: still told apart (float error is ~1e-6)
    close = FitRecord("history", {"loss": [0.2] * 3, "val_loss": [0.2, 0.2004, 0.201]}, {})
    with pytest.raises(CheckFailure):
        check_best_weights_restored(0.201, close, {"best_epoch": 0})
    check_best_weights_restored(0.2000001, close, {"best_epoch": 0})
    same = FitRecord("history", {"loss": [0.2] * 2, "val_loss": [0.2, 0.20001]}, {})
    check_best_weights_restored(0.20001, same, {"best_epoch": 0})  # within float error: either


def test_validation_data_is_identified_by_the_loss_the_model_reproduces():
    fit = fit_record(469)  # val_loss 0.50, 0.49, ... 0.39
    check_not_validated_on_test(fit, test_loss=0.4301, held_out_loss=0.43)
    check_not_validated_on_test(fit, test_loss=0.37, held_out_loss=0.4300002)
    with pytest.raises(CheckFailure) as excinfo:
        check_not_validated_on_test(fit, test_loss=0.4300001, held_out_loss=0.47321)
    assert first_line(excinfo) == "training: validation data is the test set"
    assert closest_epoch([0.5, 0.43], 0.43) == 1 and closest_epoch([0.5], 0.43) is None


def test_early_stopping_settings_are_exact_and_all_named():
    good = {"monitor": "val_loss", "patience": 3, "min_delta": 0.0010000000474974513}
    check_early_stopping({**good, "restore_best_weights": True}, patience=3, min_delta=0.001)
    with pytest.raises(CheckFailure) as excinfo:
        check_early_stopping(
            {**good, "patience": 10, "restore_best_weights": False}, patience=3, min_delta=0.001
        )
    assert first_line(excinfo) == (
        "2 problems: EarlyStopping: wrong patience; EarlyStopping: best weights not restored"
    )


def test_pixel_statistics_tell_scaling_dtype_and_shape(tmp_path):
    raw = np.arange(2 * 28 * 28, dtype="uint8").reshape(2, 28, 28)
    good = (raw / 255.0).astype("float32").reshape(-1, 28, 28, 1)
    cases = {
        "good": good,
        "unscaled": raw.astype("float32"),
        "float64": good.astype("float64"),
        "raw4d": raw.astype("float32").reshape(-1, 28, 28, 1),
    }
    export_namespace(cases, dict.fromkeys(cases, "array_stats"), str(tmp_path))
    handin = Handin(tmp_path)

    check_pixel_statistics("X", handin.value("good"), raw, shape=(2, 28, 28, 1))
    with pytest.raises(CheckFailure) as excinfo:
        check_pixel_statistics("X", handin.value("unscaled"), raw, shape=(2, 28, 28, 1))
    assert first_line(excinfo) == "2 problems: `X`: wrong shape; `X`: pixels not scaled to [0, 1]"
    with pytest.raises(CheckFailure) as excinfo:
        check_pixel_statistics("X", handin.value("float64"), raw, shape=(2, 28, 28, 1))
    assert first_line(excinfo) == "`X`: wrong dtype"
    # a model that starts with Rescaling(1 / 255) takes the raw pixel values
    check_pixel_statistics(
        "X", handin.value("raw4d"), raw, shape=(2, 28, 28, 1), rescaled_in_model=True
    )
    with pytest.raises(CheckFailure):
        check_pixel_statistics("X", handin.value("raw4d"), raw, shape=(2, 28, 28, 1))


def _images(n: int = 9000) -> np.ndarray:
    """``n`` random grey images: more rows than one block of the pixel check."""
    return np.random.default_rng(0).integers(0, 256, size=(n, 28, 28), dtype="uint8")


@pytest.mark.parametrize(
    ("damage", "first_line", "found"),
    [
        (None, None, None),
        ((-1, 27, 27, 0.501), "`X`: not min-max scaled", None),
        ((-1, 0, 0, np.nan), "`X`: contains NaN or infinite values", None),
        ((4500, 3, 3, 2.0), "`X`: pixels not scaled to [0, 1]", "values from 0 to 2"),
        ((0, 0, 0, -0.5), "`X`: pixels not scaled to [0, 1]", "values from -0.5 to 1"),
    ],
)
def test_a_wrong_pixel_is_found_in_any_block_of_rows(damage, first_line, found):
    """Is one wrong pixel in the first, a middle or the last block of rows named as before?"""
    raw = _images()
    scaled = raw.astype("float32") / 255
    if damage is None:
        assert check_pixels_scaled("X", scaled.reshape(len(raw), 784), raw).shape == (9000, 784)
        return
    row, i, j, value = damage
    scaled[row, i, j] = value
    with pytest.raises(CheckFailure) as info:
        check_pixels_scaled("X", scaled, raw)
    lines = info.value.render().splitlines()
    assert lines[0] == first_line
    if found:
        assert f"found:    {found}" in [line.strip() for line in lines]


@pytest.mark.parametrize(
    ("make", "first_line", "found"),
    [
        (lambda raw: None, "`X`: not an array of pixel values", "None"),
        (lambda raw: "x", "`X`: not an array of pixel values", "str"),
        (lambda raw: (raw / 255).astype("float16"), "`X`: wrong dtype", "float16"),
        (
            lambda raw: (raw.astype("float32") / 255).tolist(),
            "`X`: wrong dtype",
            "a list (NumPy makes float64 of it)",
        ),
        (
            lambda raw: raw / 256.0,
            "2 problems: `X`: not min-max scaled; `X`: wrong dtype",
            "values from 0 to 0.996 that are not the pixels divided by 255",
        ),
    ],
)
def test_pixel_mistakes_are_named_for_what_was_found(make, first_line, found):
    """Is each mistake named as what it is (a float16 only for its dtype, both of two)?"""
    raw = _images(100)
    with pytest.raises(CheckFailure) as info:
        check_pixels_scaled("X", make(raw), raw)
    lines = info.value.render().splitlines()
    assert lines[0] == first_line
    assert f"found:    {found}" in [line.strip() for line in lines]


def test_float64_pixels_are_still_the_wrong_dtype():
    """Are correctly scaled float64 pixels still refused for their dtype?"""
    raw = _images(100)
    with pytest.raises(CheckFailure, match="wrong dtype"):
        check_pixels_scaled("X", raw / 255.0, raw)
