"""What a part's builder gets and returns (:class:`Context`, :class:`Row`,
:class:`PartReport`), and the notes, number formats and loss figure builders share."""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

from tfnn.reproduce import figures
from tfnn.studies.seed_summary import verdict

QUICK_NOTE = "quick budget: not comparable with the report"
STAND_IN_NOTE = (
    "stand-in data (5 concentric rings, tfnn/autodiff/circles.py; the assignment's data "
    "set is not available): not comparable"
)


class Row(NamedTuple):
    """One line of a part's table in REPORT.md."""

    what: str
    report: str
    measured: str
    settings: str
    command: str
    note: str


class PartReport(NamedTuple):
    """A part's table rows, figures and any Markdown after them."""

    rows: list[Row]
    figures: list[tuple[str, str]]  # (caption, path relative to REPORT.md)
    extra: list[str] = []  # Markdown lines after the figures


class Context(NamedTuple):
    """What a builder needs: the part's record and the other parts' records."""

    out_dir: Path
    settings: dict
    sources: dict
    reduced: bool  # quick budget: the numbers are not comparable with the report's
    records: dict  # part name -> {"settings", "sources", ...} of every part run here


def format_number(value: float) -> str:
    """``0.1234``, or ``nan``."""
    return "nan" if value is None or math.isnan(value) else f"{value:.4f}"


def format_value(value) -> str:
    """A hyperparameter as the tables show it; ``—`` when there is none."""
    if value is None:
        return "—"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def plus_minus(mean: float, std: float) -> str:
    """``mean ± std``, or the mean alone when there is no noise estimate (one seed)."""
    return format_number(mean) if math.isnan(std) else f"{mean:.4f} ± {std:.4f}"


def seed_note(context: Context, mean: float, std: float, report: float, why: str = "") -> str:
    """Within seed noise (2 std) or not; beyond it, ``why`` or "not explained"."""
    if context.reduced:
        return QUICK_NOTE
    outcome = verdict(mean, std, report)
    if outcome == "within noise":
        return f"within seed noise (|difference| {abs(mean - report):.4f} < 2 std)"
    if "more than 2 std" in outcome:
        return f"{outcome}: {why or 'not explained'}"
    return outcome


def training_loss_png(title: str, x_label: str, run_dir: str | Path, tag: str) -> bytes:
    """One panel: a run's training-loss scalar ``tag`` read back from its event files."""
    return figures.panels_png(
        [
            figures.Panel(
                title,
                x_label,
                "cross-entropy",
                [figures.scalar_series(run_dir, "train", tag, "train")],
            )
        ]
    )
