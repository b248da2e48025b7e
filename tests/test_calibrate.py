"""Do calibration records give every grader its thresholds, from figures and a stated margin?"""

from __future__ import annotations

import json

import pytest

from course_lib.admin import calibrate
from course_lib.grader import calibration
from course_lib.grader.calibration import Bound, CalibrationMissing

from .conftest import ROOT

LESSONS = sorted(p.parent.name for p in (ROOT / "source").glob("*/*.ipynb"))


@pytest.mark.parametrize(
    ("bound", "values", "threshold"),
    [
        (Bound("at_most", 0.10, 0.5, "10 %", relative=True), [43.27, 43.57, 44.55], 49.5),
        (Bound("at_least", 2 / 114, 0.01, "two tumours"), [0.9211, 0.9386, 0.9649], 0.90),
        (Bound("at_least", 0.002, 0.005, "20 digits"), [0.9790, 0.9800], 0.975),
        (Bound("at_least", 0.5, 0.01, "half the gap", relative=True), [0.084, 0.1], 0.04),
        (Bound("at_least", 0.0035, 0.001, "noise"), [0.0007, 0.0142], -0.003),
    ],
)
def test_threshold_is_the_worst_seed_past_the_margin_on_the_grid(bound, values, threshold):
    assert bound.threshold(values) == pytest.approx(threshold)
    assert bound.why in bound.describe()


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_grader_declares_measured_bounds_and_has_a_record(course, lesson):
    bounds = calibrate.bounds_of(course, lesson)
    assert bounds, f"{lesson} declares no calibrated metric"
    limits = calibration.thresholds(course.grader_path(lesson), lesson)
    assert set(limits) == set(bounds)
    record = calibration.read_record(calibration.record_path(course.grader_path(lesson), lesson))
    for metric, figures in record["metrics"].items():
        if "values" in figures:  # a measured record: its threshold follows from its figures
            assert figures["threshold"] == pytest.approx(
                bounds[metric].threshold(figures["values"])
            )


def test_a_missing_record_is_a_fault_of_the_kit(tmp_path):
    grader = tmp_path / "test_x.py"
    with pytest.raises(CalibrationMissing, match="run `course calibrate x --seeds 5`"):
        calibration.thresholds(grader, "x")
    (tmp_path / "calibration").mkdir()
    (tmp_path / "calibration" / "x.json").write_text(json.dumps({"format": 99}))
    with pytest.raises(CalibrationMissing):
        calibration.thresholds(grader, "x")


def test_seeded_notebook_sets_every_seed(course):
    notebook = calibrate.seeded_notebook(course, "06_augmentation", 17)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert code.count("keras.utils.set_random_seed(17)") == 3
    assert "set_random_seed(6)" not in code
    assert "raise NotImplementedError" not in code


def test_record_keeps_figures_margin_and_threshold(course, tmp_path):
    bounds = {"acc": Bound("at_least", 0.002, 0.005, "20 digits")}
    result = calibrate.Calibration(
        "04_mnist_ann",
        [calibrate.SeedRun(0, {"acc": 0.979}, 60.0), calibrate.SeedRun(1, {"acc": 0.981}, 62.0)],
        bounds,
    )
    record = result.record()
    assert record["seeds"] == [0, 1]
    assert record["metrics"]["acc"] | {"margin": ""} == {
        "direction": "at_least",
        "values": [0.979, 0.981],
        "min": 0.979,
        "median": 0.98,
        "max": 0.981,
        "worst": 0.979,
        "margin": "",
        "threshold": 0.975,
    }
    assert "20 digits" in record["metrics"]["acc"]["margin"]
    assert "acc" in result.render() and "0.975" in result.render()
