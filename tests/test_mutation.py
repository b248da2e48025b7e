"""Does `course check-graders` make realistic mutants of every lesson and judge them right?

The fast tests check the catalogue on the lessons' real solutions (every mutant is valid
Python that differs from the solution in one statement, the lesson files name only real
mutants, the named classes of mistakes are in it). The slow test grades a few lesson-01
mutants through the batch path, as ``make check-graders`` grades all of them.
"""

from __future__ import annotations

import ast
import json

import pytest

from course_lib.admin import mutation
from course_lib.cli import main
from course_lib.grader.settings import DEFAULT_LIMITS

from .conftest import ROOT

LESSONS = sorted(p.parent.name for p in (ROOT / "source").glob("*/*.ipynb"))

NAMED_CLASSES = {
    "01_regression": [
        "part_e_answer/units_back/scaled",
        "part_c_answer/keras_count/n_params=count_params",
    ],
    "04_mnist_ann": [
        "part_e_answer/validation/test",
        "part_c_answer/from_logits/sparse_categorical_crossentropy",
        "part_f_answer/save_load/alias",
    ],
    "07_transfer_learning": [
        "part_a_answer/channels/one_channel",
        "part_b_answer/include_top/include_top",
        "part_b_answer/freezing/base.trainable=True",
        "part_e_answer/freezing/layer.trainable=True",
        "part_b_answer/pretrained_weights/none",
    ],
}


@pytest.fixture(scope="module")
def catalogues(course):
    return {lesson: mutation.catalogue(course, lesson) for lesson in LESSONS}


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_mutant_is_python_and_changes_one_statement(course, catalogues, lesson):
    solution = mutation.answer_cells(course, lesson)
    mutants = catalogues[lesson]
    assert len(mutants) >= 15
    assert len({m.id for m in mutants}) == len(mutants), "mutant ids are unique"
    for mutant in mutants:
        ast.parse(mutant.source)
        before, after = solution[mutant.cell].splitlines(), mutant.source.splitlines()
        assert after != before, mutant.id
        same_head = next(
            (i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b),
            min(len(before), len(after)),
        )
        same_tail = next(
            (i for i, (a, b) in enumerate(zip(before[::-1], after[::-1], strict=False)) if a != b),
            0,
        )
        changed = before[same_head : len(before) - same_tail]
        statement_lines = max(
            (n.end_lineno - n.lineno + 1 for n in ast.walk(ast.parse(solution[mutant.cell]))
             if isinstance(n, ast.stmt)),
            default=1,
        )  # fmt: skip
        assert len(changed) <= statement_lines, f"{mutant.id} changed more than one statement"


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_files_name_only_mutants_of_the_catalogue(course, catalogues, lesson):
    file = mutation.MutantFile.read(mutation.mutant_file_path(course, lesson))
    ids = {m.id for m in catalogues[lesson]}
    assert set(file.equivalent) <= ids
    assert set(file.expect) <= ids
    assert all(reason.strip() for reason in file.equivalent.values())


def test_the_named_classes_of_mistakes_are_in_the_catalogue(catalogues):
    for lesson, ids in NAMED_CLASSES.items():
        assert set(ids) <= {m.id for m in catalogues[lesson]}
    kinds = {m.operator for mutants in catalogues.values() for m in mutants}
    assert {"activation", "loss", "from_logits", "optimizer", "drop_layer", "add_layer", "units",
            "kernel_size", "padding", "pooling", "unscaled", "own_statistics", "validation",
            "fit_arguments", "callback", "labels", "keras_count", "freezing", "include_top",
            "pretrained_weights", "channels"} <= kinds  # fmt: skip


def test_mutants_keep_the_rest_of_the_cell_as_written():
    source = 'x = 1  # kept\nmodel.compile(loss="mse",\n              optimizer="adam")\ny = 2\n'
    names = mutation.Names(frozenset())
    [mutant] = [m for m in mutation.mutants_of_cell("c", source, names) if m.operator == "loss"]
    assert mutant.source.splitlines() == [
        "x = 1  # kept",
        "model.compile(loss='mae', optimizer='adam')",
        "y = 2",
    ]
    assert mutant.id == "c/loss/mse→mae"


@pytest.mark.parametrize(
    "scaling",
    ['(x_train / 255.0).astype("float32")', 'x_train.astype("float32") / 255.0',
     '(x_train.astype("float32") / 255.0).reshape(-1, 28, 28, 1)'],
)  # fmt: skip
def test_a_scaling_site_is_named_by_its_data_whatever_the_spelling(scaling):
    names = mutation.Names(frozenset())
    mutants = mutation.mutants_of_cell("c", f"X = {scaling}\n", names)
    [unscaled] = [m for m in mutants if m.operator == "unscaled"]
    assert unscaled.id == "c/unscaled/x_train255"
    assert "/ 255" not in unscaled.source and "x_train" in unscaled.source


def test_solution_region_limits_the_sites_except_for_the_fit_call():
    source = (
        "model = keras.Sequential([layers.Dense(1)])\n"
        "model.compile(loss='mse')\n"
        "model.fit(x, y, epochs=epochs, validation_split=0.2)\n"
    )
    names = mutation.Names(frozenset())
    mutants = mutation.mutants_of_cell("c", source, names, solution={1})
    assert {m.operator for m in mutants} == {"activation", "drop_layer", "add_layer", "units",
                                            "validation", "fit_arguments"}  # fmt: skip


def test_sample_spreads_over_operators_and_keeps_pinned_mutants():
    mutants = [mutation.Mutant(f"c/{op}/{i}", "c", op, "", "") for op in "abc" for i in range(5)]
    chosen = mutation.sample(mutants, 5, keep={"c/c/4"})
    assert len(chosen) == 5 and "c/c/4" in {m.id for m in chosen}
    assert {m.operator for m in chosen} == {"a", "b", "c"}
    assert mutation.sample(mutants, None, set()) == mutants


def test_cli_lists_the_catalogue(capsys):
    assert main(["--course-dir", str(ROOT), "check-graders", "01_regression", "--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert "part_e_answer/units_back/scaled\t" in "\n".join(listed)


@pytest.mark.slow
@pytest.mark.xdist_group("mutation")
def test_graders_kill_lesson_01_mutants_through_the_batch_path(course):
    """The CI sample of `make check-graders`: a few cheap lesson-01 mutants, one equivalent."""
    only = [
        "part_e_answer/units_back/scaled",
        "part_a_answer/own_statistics/X_test",
        "part_a_answer/own_statistics/X_train",
    ]
    [report] = mutation.check_graders(
        course,
        ["01_regression"],
        limits=DEFAULT_LIMITS.with_overrides(cell_timeout=300),
        workers=2,
        only=only,
        control=False,
    )
    outcomes = {r.mutant.id: (r.outcome, r.killers[:1]) for r in report.results}
    assert outcomes == {
        "part_e_answer/units_back/scaled": (
            "killed",
            [("quality", "`y_pred`: in standardised units")],
        ),
        "part_a_answer/own_statistics/X_test": (
            "killed",
            [("preprocessing", "`X_test_scaled`: standardised with its own statistics")],
        ),
        "part_a_answer/own_statistics/X_train": ("equivalent", []),
    }, report.render()
    assert report.ok and report.score == 1.0
    record = json.loads(mutation.to_json([report], 1.0))["lessons"][0]
    assert record["killed"] == 2 and record["equivalent"] == 1 and record["survived"] == 0
