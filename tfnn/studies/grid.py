"""A study's grid: variants (one setting changed per axis) trained over consecutive
seeds, resumable, each summarised by mean and std (``tfnn study vu-mlp``, ``cifar``).

A study builds its :class:`Variant` list, picks its directory with
:func:`study_dir_to_use` and calls :func:`run_grid`; :mod:`tfnn.studies.seed_summary`
turns the rows into a table and a chart.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from tfnn.configs.common import TrainConfig
from tfnn.errors import ConfigError, TrainingDiverged
from tfnn.experiments.spec import Experiment, run_experiment
from tfnn.results import read_results
from tfnn.rundir import create_run_dir
from tfnn.studies.scalars import epoch_scalars
from tfnn.studies.seed_summary import mean_std, verdict

# The repo's MNIST default; with a cut training set a tenth of it is held out instead,
# since 5,000 would not fit in a quick check's few thousand images.
FULL_VALIDATION_SAMPLES = 5000


def held_out_samples(train_samples: int) -> int:
    """Validation images for a run on ``train_samples`` training images (0: all)."""
    return train_samples // 10 if train_samples else FULL_VALIDATION_SAMPLES


class Variant(NamedTuple):
    """One row of a study: a config (its first seed) and the report's accuracy, if any."""

    axis: str
    value: str
    config: TrainConfig
    report: float | None = None


def chosen_axes(only: Sequence[str], axes: Sequence[str]) -> list[str]:
    """The ``only`` values in ``axes`` order (all of them when empty).

    Raises:
        ConfigError: A name that is not an axis.
    """
    for name in only:
        if name not in axes:
            raise ConfigError(f"{{only}} {name!r} is not allowed: one of " + ", ".join(axes))
    return [axis for axis in axes if not only or axis in only]


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
            f"{{resume}} {resume!r} is not a {Path(kind).name} study directory "
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
