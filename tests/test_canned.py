"""Does every canned submission get exactly the scores and messages its lesson expects?

Expectations live beside the edits that make each submission, in
``tests/canned/variants_<lesson>.py`` (``EXPECTED`` and ``OPTIONS``).
"""

from __future__ import annotations

import pytest

from course_lib.grader.grade import grade_notebook
from course_lib.grader.settings import DEFAULT_LIMITS

from .conftest import CANNED, ROOT, load_variants
from .test_batch import CLASS as BATCH_CLASS
from .test_batch import LESSON as BATCH_LESSON

# test_batch.py grades these lesson-01 notebooks through `course grade --all` and asserts the
# same EXPECTED scores and messages; grading them here again would only spend CI time.
GRADED_BY_THE_BATCH_TEST = {(BATCH_LESSON, name) for name in BATCH_CLASS}

# CI grades every lesson's solution, untouched release and most mistakes and valid variants;
# these train a full network again for a mistake or a spelling of the same kind as one CI
# grades (`make test-full` grades them too).
BEYOND_CI_SAMPLE = {
    ("04_mnist_ann", "functional_api"),
    ("04_mnist_ann", "two_hidden_layers_flat_input"),
    ("05_cnn", "functional_api"),
    ("05_cnn", "conv_without_pooling"),
    ("05_cnn", "relu_after_batchnorm"),
    ("06_augmentation", "functional_api"),
    ("06_augmentation", "rotation_too_large"),
    ("06_augmentation", "rescaling_layer"),
    ("07_transfer_learning", "sequential_api"),
    ("07_transfer_learning", "base_layers_inline"),
}


def _marks(lesson: str, name: str) -> list:
    marks = [pytest.mark.xdist_group(f"{lesson}-{name}")]
    return [*marks, pytest.mark.full] if (lesson, name) in BEYOND_CI_SAMPLE else marks


CASES = [
    pytest.param(lesson, name, id=f"{lesson}-{name}", marks=_marks(lesson, name))
    for lesson in sorted(p.name for p in CANNED.iterdir() if p.is_dir())
    for name in load_variants(lesson).EXPECTED
    if (lesson, name) not in GRADED_BY_THE_BATCH_TEST
]


def test_the_ci_sample_names_only_canned_notebooks():
    """Every notebook left to `make test-full` exists, with its expectations."""
    for lesson, name in BEYOND_CI_SAMPLE:
        assert name in load_variants(lesson).EXPECTED, (lesson, name)
        assert (CANNED / lesson / f"{name}.ipynb").is_file(), (lesson, name)


@pytest.mark.slow
@pytest.mark.parametrize(("lesson", "name"), CASES)
def test_canned_submission_scores(course, warm_graders, lesson, name):
    module = load_variants(lesson)
    failing = module.EXPECTED[name]
    limits = DEFAULT_LIMITS.with_overrides(**getattr(module, "OPTIONS", {}).get(name, {}))
    report = grade_notebook(
        CANNED / lesson / f"{name}.ipynb",
        course=course,
        lesson=lesson,
        limits=limits,
        graders=warm_graders,
    )

    assert report.ungradable is None, report.ungradable
    tests = {t.id: t for t in report.tests}
    assert set(failing) <= set(tests), f"unknown test ids: {set(failing) - set(tests)}"
    observed = {
        test_id: (t.passed, t.points, t.message.splitlines()[0] if t.message else "")
        for test_id, t in tests.items()
    }
    expected = {
        test_id: (False, 0.0, failing[test_id])
        if test_id in failing
        else (True, t.max_points, "passed")
        for test_id, t in tests.items()
    }
    assert observed == expected, report.render()
    assert report.score == sum(t.max_points for t in report.tests if t.id not in failing)
    assert report.exit_code == (1 if failing else 0)
    assert str(ROOT) not in report.to_json()
