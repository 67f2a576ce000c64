"""The figures no study draws already: curves read back from event files, the tuner's trials.

Everything else REPORT.md shows is a PNG the studies and runs wrote themselves,
copied next to REPORT.md.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from tfnn import plots
from tfnn.plots.canvas import new_figure
from tfnn.studies.scalars import epoch_scalars

FIGURES_DIR = "figures"


class Series(NamedTuple):
    """One line of a panel: ``(step, value)`` points read from a run's event files."""

    label: str
    points: Sequence[tuple[int, float]]


class Panel(NamedTuple):
    title: str
    xlabel: str
    ylabel: str
    series: Sequence[Series]


def scalar_series(run_dir: str | Path, sub_run: str, tag: str, label: str) -> Series:
    """A scalar of ``run_dir/sub_run`` (``train/step_loss``, ``test/epoch_accuracy``...)."""
    return Series(label, epoch_scalars(run_dir, sub_run, tag))


def panels_png(panels: Sequence[Panel]) -> bytes:
    """The panels side by side, one line per series."""
    figure = new_figure(5.5 * len(panels), 4)
    for index, panel in enumerate(panels, start=1):
        axes = figure.add_subplot(1, len(panels), index)
        for series in panel.series:
            points = np.array(series.points, dtype=float).reshape(-1, 2)
            style = "-o" if len(points) <= 30 else "-"
            axes.plot(points[:, 0], points[:, 1], style, markersize=3, label=series.label)
        axes.set(title=panel.title, xlabel=panel.xlabel, ylabel=panel.ylabel)
        axes.grid(alpha=0.3)
        if len(panel.series) > 1:
            axes.legend()
    return plots.figure_to_png(figure)


def trials_png(accuracies: Sequence[float], best: float, report: float, title: str) -> bytes:
    """Histogram of the trials' validation accuracies; lines at our best and the report's."""
    figure = new_figure(7, 4)
    axes = figure.add_subplot()
    bins = np.linspace(0.0, 1.0, 41)
    axes.hist(np.asarray(accuracies, dtype=float), bins=bins, color="tab:blue", alpha=0.8)
    axes.axvline(best, color="tab:green", linestyle="--", label=f"best trial {best:.4f}")
    axes.axvline(
        report, color="black", linestyle=":", label=f"report's best (test set) {report:.4f}"
    )
    axes.set(title=title, xlabel="validation accuracy of the trial", ylabel="trials", xlim=(0, 1.0))
    axes.legend(loc="upper left")
    axes.grid(alpha=0.3)
    return plots.figure_to_png(figure)


def save(png: bytes, out_dir: Path, name: str) -> str:
    """Writes ``png`` as ``out_dir/figures/name``; returns the path relative to ``out_dir``."""
    path = out_dir / FIGURES_DIR / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return f"{FIGURES_DIR}/{name}"


def copy(source: str | Path, out_dir: Path, name: str) -> str | None:
    """Copies a PNG a run wrote into ``out_dir/figures``; None when the run wrote none."""
    source = Path(source)
    if not source.is_file():
        return None
    path = out_dir / FIGURES_DIR / name
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, path)
    return f"{FIGURES_DIR}/{name}"
