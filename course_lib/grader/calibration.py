"""Quality thresholds measured on the reference solution, not copied into grader files.

``course calibrate LESSON --seeds N`` runs the lesson's solution once per seed and writes
``autograder/calibration/<lesson>.json``: for every quality metric the grader declares, the
figures over the seeds and the threshold that follows from the worst seed and a stated
margin (:class:`Bound`). A grader reads its thresholds from there::

    CALIBRATED = {"test_mae": calibration.Bound("at_most", margin=0.10, relative=True, ...)}
    LIMITS = calibration.thresholds(__file__, LESSON)

and measures each metric with a function ``measure_<metric>(handin) -> float`` that
``course calibrate`` calls too, so a threshold and the grade use the same measurement.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

FORMAT = 1

_measuring = False
"""Set by ``course calibrate`` while it measures: graders may then load without a record."""


@contextmanager
def measuring() -> Iterator[None]:
    """While ``course calibrate`` imports a grader: it may load without a record."""
    global _measuring
    previous, _measuring = _measuring, True
    try:
        yield
    finally:
        _measuring = previous


class CalibrationMissing(RuntimeError):
    """A grader needs a calibration record that is missing or unreadable (a kit fault)."""


@dataclass(frozen=True)
class Bound:
    """How a threshold follows from the reference solution's worst seed.

    ``at_least`` metrics get ``worst - margin`` rounded down to a multiple of ``step``,
    ``at_most`` metrics ``worst + margin`` rounded up; a ``relative`` margin is a fraction
    of the worst value. ``why`` says what the margin means (e.g. "two more test errors").
    """

    direction: str
    margin: float
    step: float
    why: str
    relative: bool = False

    def __post_init__(self) -> None:
        if self.direction not in ("at_least", "at_most"):
            raise ValueError(f"direction must be at_least or at_most, not {self.direction!r}")

    def worst(self, values: list[float]) -> float:
        return min(values) if self.direction == "at_least" else max(values)

    def threshold(self, values: list[float]) -> float:
        worst = self.worst(values)
        margin = abs(worst) * self.margin if self.relative else self.margin
        if self.direction == "at_least":
            raw = math.floor(round((worst - margin) / self.step, 9)) * self.step
        else:
            raw = math.ceil(round((worst + margin) / self.step, 9)) * self.step
        decimals = max(0, -math.floor(math.log10(self.step))) if self.step < 1 else 0
        return round(raw, decimals + 1)

    def describe(self) -> str:
        """The margin in words, e.g. "10 % above the worst seed (room for …), on a 0.5 grid"."""
        amount = f"{self.margin:.0%} of its value" if self.relative else f"{self.margin:.4g}"
        side = "below" if self.direction == "at_least" else "above"
        return f"{amount} {side} the worst seed ({self.why}), on a grid of {self.step:g}"


def record_path(grader_file: str | Path, lesson: str) -> Path:
    """``autograder/calibration/<lesson>.json`` beside the grader file."""
    return Path(grader_file).resolve().parent / "calibration" / f"{lesson}.json"


def read_record(path: Path) -> dict:
    """A calibration record, or :class:`CalibrationMissing` saying how to make it."""
    lesson = path.stem
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            raise ValueError(f"not a format-{FORMAT} calibration record")
    except (OSError, ValueError) as exc:
        raise CalibrationMissing(
            f"no usable calibration record {path} ({exc.__class__.__name__}): "
            f"run `course calibrate {lesson} --seeds 5`"
        ) from None
    return record


def thresholds(grader_file: str | Path, lesson: str) -> dict[str, float]:
    """Every calibrated metric's threshold for the lesson of ``grader_file``.

    Raises :class:`CalibrationMissing` when there is no record (the graders cannot judge
    quality without one), except while ``course calibrate`` itself is measuring.
    """
    path = record_path(grader_file, lesson)
    if _measuring and not path.is_file():
        return {}
    record = read_record(path)
    try:
        return {name: float(m["threshold"]) for name, m in record["metrics"].items()}
    except (KeyError, TypeError, ValueError):
        raise CalibrationMissing(
            f"{path}: a metric has no threshold: run `course calibrate {lesson}` again"
        ) from None
