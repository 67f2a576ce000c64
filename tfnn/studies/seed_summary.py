"""Numbers over seeds: mean ± std, how they compare with a report's single number, and
the Markdown table and bar chart of a grid's rows (see :mod:`tfnn.studies.grid`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from tfnn import plots
from tfnn.plots.canvas import new_figure

AXIS_COLORS = ("tab:blue", "tab:green", "tab:orange", "tab:purple")


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (NaN for one value: no noise estimate)."""
    array = np.asarray(values, dtype=float)
    std = float(array.std(ddof=1)) if len(array) > 1 else math.nan
    return float(array.mean()), std


def verdict(mean: float, std: float, report: float | None) -> str:
    """How our mean compares with the report's number, in units of seed noise."""
    if report is None:
        return "no number in the report"
    if math.isnan(mean) or math.isnan(std):
        return "no noise estimate (one seed)" if not math.isnan(mean) else "no result"
    difference = mean - report
    if abs(difference) < 2 * std:
        return "within noise"
    return f"{'above' if difference > 0 else 'below'} the report by more than 2 std"


def _pm(mean: float, std: float) -> str:
    return f"{mean:.4f}" if math.isnan(std) else f"{mean:.4f} ± {std:.4f}"


def seed_table(title: str, intro: str, rows: list[dict]) -> str:
    """The Markdown summary: one row per variant, mean ± std over its seeds."""
    lines = [
        f"# {title}",
        "",
        intro,
        "",
        "| axis | value | runs | test accuracy | validation accuracy (last epoch) "
        "| report | difference | verdict |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        failed = [run["status"] for run in row["runs"] if run["status"] != "finished"]
        report = "–" if row["report_accuracy"] is None else f"{row['report_accuracy']:.3f}"
        difference = "–" if row["difference"] is None else f"{row['difference']:+.4f}"
        lines.append(
            f"| {row['axis']} | {row['value']} | {len(row['runs'])}"
            + (f" ({len(failed)} not finished)" if failed else "")
            + f" | {_pm(row['test_accuracy_mean'], row['test_accuracy_std'])} | "
            f"{_pm(row['validation_accuracy_mean'], row['validation_accuracy_std'])} | "
            f"{report} | {difference} | {row['verdict']} |"
        )
    lines += [
        "",
        "Mean ± sample standard deviation over the seeds. Within noise: the difference from "
        "the report is smaller than 2 std of our seeds.",
        "",
        "![test accuracy per config](summary.png)",
        "",
    ]
    return "\n".join(lines)


def seed_chart(rows: list[dict], title: str) -> bytes:
    """Horizontal bars of mean test accuracy with ±std error bars; x marks the report."""
    figure = new_figure(8, 0.45 * len(rows) + 1.5)
    axes = figure.add_subplot()
    axis_names = list(dict.fromkeys(row["axis"] for row in rows))
    positions = np.arange(len(rows))
    means = np.array([row["test_accuracy_mean"] for row in rows])
    stds = np.nan_to_num(np.array([row["test_accuracy_std"] for row in rows]))
    colors = [AXIS_COLORS[axis_names.index(row["axis"]) % len(AXIS_COLORS)] for row in rows]
    axes.barh(positions, np.nan_to_num(means), xerr=stds, color=colors, capsize=3)
    reported = [(i, row["report_accuracy"]) for i, row in enumerate(rows) if row["report_accuracy"]]
    if reported:
        where, values = zip(*reported, strict=True)
        axes.plot(values, where, "kx", markersize=8, label="report")
        axes.legend(loc="lower right")
    axes.set_yticks(positions, [f"{row['axis']}={row['value']}" for row in rows])
    axes.invert_yaxis()  # table order, top to bottom
    # Zoom on the accuracies: the differences discussed are a percent or two.
    finite = [v for v in (*(means - stds), *(v for _, v in reported)) if not math.isnan(v)]
    low = max(0.0, min(finite, default=0.0) - 0.05)
    axes.set(xlim=(low, 1.0), xlabel="test accuracy (mean ± std over seeds)", title=title)
    axes.grid(axis="x", alpha=0.3)
    return plots.figure_to_png(figure)
