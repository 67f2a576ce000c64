"""`tfnn study vu-mlp`: the VU DL A2 MNIST MLPs, each setting over several seeds.

VU's vugrad MLP (Linear → sigmoid → Linear → softmax, plain SGD, batch 128,
20 epochs) with one thing changed per axis: the hidden activation, the hidden
width (``hidden_mult`` × 784) and the number of hidden layers. Every config is
trained with ``seeds`` consecutive seeds, so the report's single numbers can be
set against seed-to-seed noise. Writes into
``<logdir>/studies/vu-mlp/<timestamp>-<settings>/``:

- ``mnist-dnn/<run>/``: every run's ordinary ``tfnn train mnist-dnn`` directory;
- ``summary.md``: mean ± std of the accuracies per config, next to the report's;
- ``summary.png`` (also an image summary): the same as bars with error bars;
- ``results.json``: the numbers, per seed too.

The grid helpers here (:func:`run_grid`, :func:`seed_table`, :func:`seed_chart`)
are shared with ``tfnn study cifar``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from tfnn import plots
from tfnn.configs.common import TrainConfig
from tfnn.configs.mnist import MNIST_DNN_PRESETS, MnistDnnConfig
from tfnn.errors import ConfigError, TrainingDiverged
from tfnn.experiments.mnist import MNIST_DNN
from tfnn.experiments.spec import Experiment, run_experiment
from tfnn.results import read_results, write_results
from tfnn.rundir import create_run_dir
from tfnn.studies.dnn_compare import epoch_scalars, held_out_samples, new_figure
from tfnn.tensorboard.images import write_image

INPUT_FEATURES = 784
# Neither the report nor the assignment text states the MLP's learning rate, so
# 0.1 (a common plain-SGD step on a batch-mean loss) is our choice, not theirs.
DEFAULT_LEARNING_RATE = 0.1
# VU DL A2 report (shared/reports/001_39a50a903a16b602.txt): validation accuracy
# after 20 epochs, one run each. The depth experiment gives no numbers, only
# "the 1-layer neural network outperforms the 2-layer neural network".
REPORT_ACCURACY: dict[tuple[str, str], float] = {
    ("activation", "sigmoid"): 0.948,
    ("activation", "relu"): 0.933,
    ("width", "x2"): 0.942,
    ("width", "x4"): 0.940,
    ("width", "x6"): 0.936,
}
# Axis -> value label -> MnistDnnConfig fields; the rest is the vu-mlp preset.
AXES: dict[str, dict[str, dict]] = {
    "activation": {
        name: {"arch": (4 * INPUT_FEATURES,), "activation": name} for name in ("sigmoid", "relu")
    },
    "width": {
        f"x{mult}": {"arch": (mult * INPUT_FEATURES,), "activation": "sigmoid"}
        for mult in (2, 4, 6)
    },
    "depth": {
        f"{layers} hidden": {"arch": (4 * INPUT_FEATURES,) * layers, "activation": "sigmoid"}
        for layers in (1, 2)
    },
}
AXIS_COLORS = ("tab:blue", "tab:green", "tab:orange", "tab:purple")


class Variant(NamedTuple):
    """One row of a study: a config (its first seed) and the report's accuracy, if any."""

    axis: str
    value: str
    config: TrainConfig
    report: float | None = None


def chosen_axes(only: Sequence[str], axes: Sequence[str]) -> list[str]:
    """``--only`` values in ``axes`` order (all of them when empty).

    Raises:
        ConfigError: A name that is not an axis.
    """
    for name in only:
        if name not in axes:
            raise ConfigError(f"--only {name!r} is not allowed: one of " + ", ".join(axes))
    return [axis for axis in axes if not only or axis in only]


def run_study(
    logdir: str = "logs",
    steps: int = 0,
    seed: int = 0,
    epochs: int = 20,
    seeds: int = 3,
    train_samples: int = 0,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    only: Sequence[str] = (),
    resume: str = "",
    print_fn: Callable[..., None] = print,
) -> Path:
    """Trains every chosen config over ``seeds`` seeds; writes the summary.

    Args:
        logdir: Log root; the study directory is made under ``studies/vu-mlp``.
        steps: Training steps of each run, replacing ``epochs`` when > 0.
        seed: First seed; the runs of a config use ``seed`` … ``seed + seeds - 1``.
        epochs: Passes over the training set (the report's 20).
        seeds: Runs per config.
        train_samples: Use only the first N training images (0: all); a tenth of
            them (5,000 of all, as in the assignment) is held out for validation.
        learning_rate: Plain SGD's step size (see :data:`DEFAULT_LEARNING_RATE`).
        only: Axes to run (``activation``, ``width``, ``depth``); empty: all.
        resume: An earlier (interrupted) study directory to continue in: runs
            that finished there are reused, the rest are trained.
        print_fn: Where the one line per run and the table go.

    Returns:
        The study directory.
    """
    if seeds < 1:
        raise ConfigError(f"--seeds {seeds} is not allowed: at least 1")
    base = {
        **MNIST_DNN_PRESETS["vu-mlp"],
        "learning_rate": learning_rate,
        "epochs": epochs,
        "steps": steps,
        "train_samples": train_samples,
        "validation_samples": held_out_samples(train_samples),
        "seed": seed,
        # The Projector/t-SNE and image summaries would cost more than a short run.
        "embedding_samples": 0,
        "images": False,
        "logdir": logdir,
    }
    # Every config is built (and validated) before anything is written.
    variants = [
        Variant(
            axis, value, MnistDnnConfig(**{**base, **fields}), REPORT_ACCURACY.get((axis, value))
        )
        for axis in chosen_axes(only, list(AXES))
        for value, fields in AXES[axis].items()
    ]
    budget = f"s{steps}" if steps else f"e{epochs}"
    study_dir = study_dir_to_use(
        resume, logdir, "studies/vu-mlp", f"{budget}-n{train_samples or 'all'}-seeds{seeds}"
    )
    rows = run_grid(MNIST_DNN, variants, seeds, study_dir, print_fn)

    config = variants[0].config
    title = f"VU DL A2 MLP on MNIST, {budget}, {seeds} seed(s): test accuracy"
    chart = seed_chart(rows, title)
    write_image(study_dir, "summary", chart, step=0, png_path=study_dir / "summary.png")
    intro = (
        f"vugrad's MLP in Keras: dense hidden layer(s) of `hidden_mult` × 784 units, softmax "
        f"output; plain SGD with learning rate {config.learning_rate:g} (the report does not "
        f"state its own), batch {config.batch_size}, "
        + (f"{steps} steps" if steps else f"{epochs} epoch(s)")
        + f" on {train_samples or 60_000:,} training images less {config.validation_samples:,} "
        f"held out for validation (seeded random, not the last ones); seeds {seed}–"
        f"{seed + seeds - 1}. Test: the 10,000 test images. The report's numbers are single "
        "runs' validation accuracy after 20 epochs (its depth experiment gives none)."
    )
    table = seed_table("VU DL A2: MNIST MLP settings over seeds", intro, rows)
    (study_dir / "summary.md").write_text(table)
    write_results(
        study_dir,
        {
            "study": "vu-mlp",
            "epochs": epochs,
            "steps": steps,
            "seeds": list(range(seed, seed + seeds)),
            "train_samples": train_samples,
            "learning_rate": learning_rate,
            "rows": rows,
        },
    )
    print_fn("\n" + table)
    return study_dir


def study_dir_to_use(resume: str, logdir: str, kind: str, settings: str) -> Path:
    """``resume`` (an earlier study directory of this kind), or a new directory.

    Raises:
        ConfigError: ``resume`` is not a directory of a ``kind`` study.
    """
    if not resume:
        return create_run_dir(logdir, kind, settings)
    study_dir = Path(resume)
    if not study_dir.is_dir() or study_dir.parent.name != Path(kind).name:
        raise ConfigError(
            f"--resume {resume!r} is not a {Path(kind).name} study directory "
            f"(<logdir>/{kind}/<timestamp>-...)"
        )
    return study_dir


def _settings(config: dict) -> str:
    """A config's settings as comparable text; the log root may be spelt differently."""
    return json.dumps({k: v for k, v in config.items() if k != "logdir"}, sort_keys=True)


def finished_runs(study_dir: Path, experiment: str) -> dict[str, Path]:
    """Run directories in ``study_dir`` that finished, by their settings."""
    finished = {}
    for results_file in sorted((study_dir / experiment).glob("*/results.json")):
        try:
            results = json.loads(results_file.read_text())
        except (OSError, ValueError):
            continue  # a run killed while writing: train it again
        if results.get("status") == "finished":
            finished[_settings(results["config"])] = results_file.parent
    return finished


def run_grid(
    experiment: Experiment,
    variants: Sequence[Variant],
    seeds: int,
    study_dir: Path,
    print_fn: Callable[..., None] = print,
) -> list[dict]:
    """Trains each variant with ``seeds`` consecutive seeds inside ``study_dir``.

    Equal configs (an axis' baseline shared with another axis) are trained once,
    and runs that already finished in ``study_dir`` (a resumed study) are reused.

    Returns:
        One row per variant: mean and std of the accuracies and the per-seed runs.
    """
    done = finished_runs(study_dir, variants[0].config.experiment) if variants else {}
    trained: dict[TrainConfig, dict] = {}
    rows = []
    total = len(variants) * seeds
    for index, variant in enumerate(variants):
        runs = []
        for offset in range(seeds):
            config = dataclasses.replace(
                variant.config, seed=variant.config.seed + offset, logdir=str(study_dir)
            )
            if config not in trained:
                earlier = done.get(_settings(config.to_dict()))
                trained[config] = (
                    run_numbers(read_results(earlier), earlier)
                    if earlier
                    else train_run(experiment, config)
                )
            runs.append({"seed": config.seed, **trained[config]})
            print_fn(
                f"[{index * seeds + offset + 1}/{total}] {variant.axis}={variant.value} "
                f"seed {config.seed}: test accuracy {runs[-1]['test_accuracy']:.4f}, "
                f"{runs[-1]['train_time_s']:.1f} s",
                flush=True,
            )
        rows.append(seed_row(variant, runs))
    return rows


def train_run(experiment: Experiment, config: TrainConfig) -> dict:
    """One run's numbers; a diverged run gives NaNs instead of stopping the study."""
    runs_dir = Path(config.logdir) / config.experiment
    before = set(runs_dir.iterdir()) if runs_dir.is_dir() else set()
    try:
        results = run_experiment(experiment, config, print_fn=lambda *_, **__: None)
    except TrainingDiverged:
        # The runner kept the run's logs and results.json; find its new directory.
        (run_dir,) = set(runs_dir.iterdir()) - before
        results = read_results(run_dir)
    return run_numbers(results)


def run_numbers(results: dict, run_dir: Path | None = None) -> dict:
    """The numbers a study keeps of one run, from its ``results.json`` content.

    ``run_dir``: where the run is now (default: where it was written; a relative
    path recorded from another working directory would not be found).
    """
    run_dir = run_dir or Path(results["run_dir"])
    metrics = results.get("metrics", {})
    validation = epoch_scalars(str(run_dir), "validation", "epoch_accuracy")
    return {
        "status": results["status"],
        "train_loss": metrics.get("train_loss", math.nan),
        "test_loss": metrics.get("test_loss", math.nan),
        "test_accuracy": metrics.get("test_accuracy", math.nan),
        "validation_accuracy": validation[-1][1] if validation else math.nan,
        "best_validation_accuracy": max(value for _, value in validation)
        if validation
        else math.nan,
        "train_time_s": results.get("train_time_s", math.nan),
        "run_dir": str(run_dir),
    }


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


def seed_row(variant: Variant, runs: list[dict]) -> dict:
    """Summary numbers of one variant's runs."""
    test_mean, test_std = mean_std([run["test_accuracy"] for run in runs])
    validation_mean, validation_std = mean_std([run["validation_accuracy"] for run in runs])
    return {
        "axis": variant.axis,
        "value": variant.value,
        "config": variant.config.short_name(),
        "test_accuracy_mean": test_mean,
        "test_accuracy_std": test_std,
        "validation_accuracy_mean": validation_mean,
        "validation_accuracy_std": validation_std,
        "report_accuracy": variant.report,
        "difference": None if variant.report is None else test_mean - variant.report,
        "verdict": verdict(test_mean, test_std, variant.report),
        "runs": runs,
    }


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
