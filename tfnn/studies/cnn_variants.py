"""`tfnn study cnn-variants`: the COMP 576 CNN with one setting changed at a time.

Starting from the default ``tfnn train cnn`` config (relu, glorot_uniform,
adam), each axis (activation, init, optimizer) is varied alone, not the full
product. Writes into ``<logdir>/studies/cnn-variants/<timestamp>-<settings>/``:

- ``cnn/<run>/``: each variant's ordinary ``tfnn train cnn`` run, so TensorBoard
  on the study directory overlays just them;
- ``summary.md``: axis, value, final train loss, validation and test accuracy, time;
- ``summary.png`` (also an image summary): test accuracy per variant;
- ``results.json``: the same numbers, machine-readable.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from pathlib import Path

from tfnn import plots
from tfnn.configs.mnist import CnnConfig
from tfnn.errors import ConfigError
from tfnn.experiments.mnist import CNN
from tfnn.plots.canvas import new_figure
from tfnn.results import write_results
from tfnn.rundir import create_run_dir
from tfnn.studies.grid import held_out_samples, train_run
from tfnn.tensorboard.images import write_image

DEFAULT_STEPS = 300
DEFAULT_TRAIN_SAMPLES = 10_000
# Each axis: value label -> config fields. The default config's value is listed
# first, so every axis starts with the baseline it is compared against.
AXES: dict[str, dict[str, dict]] = {
    "activation": {
        name: {"activation": name}
        for name in ("relu", "tanh", "sigmoid", "elu", "leaky_relu", "softmax")
    },
    "init": {
        "glorot_uniform": {"init": "glorot_uniform"},
        "he_normal": {"init": "he_normal"},
        "normal(0.01)": {"init": "normal", "init_std": 0.01},
        "zeros": {"init": "zeros"},
    },
    "optimizer": {
        name: {"optimizer": name} for name in ("adam", "sgd", "momentum", "rmsprop", "adagrad")
    },
}
AXIS_COLORS = {"activation": "tab:blue", "init": "tab:green", "optimizer": "tab:orange"}


def parse_only(specs: Sequence[str]) -> dict[str, list[str]]:
    """Parses the ``only`` values: ``axis`` (all its values) or ``axis=value,value``.

    Returns:
        Axis -> chosen value labels, in :data:`AXES` order; every axis when
        ``specs`` is empty.

    Raises:
        ConfigError: An unknown axis or value.
    """
    if not specs:
        return {axis: list(values) for axis, values in AXES.items()}
    chosen: dict[str, list[str]] = {}
    for spec in specs:
        axis, _, values = spec.partition("=")
        if axis not in AXES:
            raise ConfigError(
                f"{{only}} {spec!r} is not allowed: the axis must be one of " + ", ".join(AXES)
            )
        names = [name for name in values.split(",") if name] if values else list(AXES[axis])
        for name in names:
            if name not in AXES[axis]:
                raise ConfigError(
                    f"{{only}} {spec!r} is not allowed: {axis} values are " + ", ".join(AXES[axis])
                )
        chosen.setdefault(axis, [])
        chosen[axis] += [name for name in names if name not in chosen[axis]]
    return {axis: chosen[axis] for axis in AXES if axis in chosen}


def run_study(
    logdir: str = "logs",
    steps: int = 0,
    seed: int = 0,
    train_samples: int = DEFAULT_TRAIN_SAMPLES,
    only: Sequence[str] = (),
    print_fn: Callable[..., None] = print,
) -> Path:
    """Trains every chosen variant and writes the table and the bar chart.

    Args:
        logdir: Log root; the study directory is made under ``studies/cnn-variants``.
        steps: Training steps of every run; 0 means :data:`DEFAULT_STEPS`.
        seed: Seed of the data split and the weights of every run.
        train_samples: Use only the first N training images (0: all); a tenth
            of them (5,000 of all) is held out for the validation accuracy.
        only: ``--only`` specs (see :func:`parse_only`); empty runs the whole grid.
        print_fn: Where the one line per run and the table go.

    Returns:
        The study directory.
    """
    budget = steps or DEFAULT_STEPS
    base = dict(
        steps=budget,
        train_samples=train_samples,
        validation_samples=held_out_samples(train_samples),
        seed=seed,
        # The Projector/t-SNE and confusion images cost more than a short run itself.
        embedding_samples=0,
        images=False,
        logdir=logdir,
    )
    # Every config is built (and validated) before anything is written.
    variants = [
        (axis, value, CnnConfig(**base, **AXES[axis][value]))
        for axis, values in parse_only(only).items()
        for value in values
    ]
    study_dir = create_run_dir(
        logdir, "studies/cnn-variants", f"s{budget}-n{train_samples or 'all'}-seed{seed}"
    )

    # The baseline belongs to every axis; equal configs are trained once.
    trained: dict[CnnConfig, dict] = {}
    rows = []
    for index, (axis, value, config) in enumerate(variants, start=1):
        if config not in trained:
            trained[config] = _train(dataclasses.replace(config, logdir=str(study_dir)))
        rows.append({"axis": axis, "value": value, **trained[config]})
        print_fn(
            f"[{index}/{len(variants)}] {axis}={value}: test accuracy "
            f"{rows[-1]['test_accuracy']:.4f}, {rows[-1]['train_time_s']:.1f} s",
            flush=True,
        )

    chart = accuracy_chart(rows, f"MNIST CNN, {budget} steps: test accuracy per variant")
    write_image(study_dir, "summary", chart, step=budget, png_path=study_dir / "summary.png")
    table = summary_table(rows, variants[0][2])
    (study_dir / "summary.md").write_text(table)
    write_results(
        study_dir,
        {
            "study": "cnn-variants",
            "steps": budget,
            "train_samples": train_samples,
            "seed": seed,
            "runs": rows,
        },
    )
    print_fn("\n" + table)
    return study_dir


def _train(config: CnnConfig) -> dict:
    """One run's row fields (shared with the other studies: a diverged run gives NaNs)."""
    return train_run(CNN, config)


def accuracy_chart(rows: list[dict], title: str) -> bytes:
    """Horizontal bars of test accuracy, one per row, coloured by axis."""
    figure = new_figure(8, 0.4 * len(rows) + 1.5)
    axes = figure.add_subplot()
    labels = [f"{row['axis']}={row['value']}" for row in rows]
    values = [0.0 if math.isnan(row["test_accuracy"]) else row["test_accuracy"] for row in rows]
    bars = axes.barh(labels, values, color=[AXIS_COLORS[row["axis"]] for row in rows])
    axes.bar_label(bars, labels=[f"{row['test_accuracy']:.4f}" for row in rows], padding=3)
    axes.invert_yaxis()  # table order, top to bottom
    axes.set(xlim=(0, 1.12), xlabel="test accuracy", title=title)
    axes.grid(axis="x", alpha=0.3)
    return plots.figure_to_png(figure)


def summary_table(rows: list[dict], config: CnnConfig) -> str:
    """The Markdown summary: settings, then one row per (axis, value)."""
    # The first value of each axis is the default config's.
    defaults = {axis: next(iter(values)) for axis, values in AXES.items()}
    lines = [
        "# MNIST CNN: one setting at a time",
        "",
        f"COMP 576's 4-layer CNN, {config.steps} steps of batch {config.batch_size} on "
        f"{config.train_samples or 60_000:,} training images less {config.validation_samples:,} "
        f"held out for the validation accuracy (last epoch), seed {config.seed}. Default: "
        f"{', '.join(defaults.values())}, learning rate {config.learning_rate:g} (for every "
        f"optimizer), dropout {config.dropout:g}; each row changes one setting. "
        "Train loss: one evaluation of the trained model on its training images; "
        "test: the 10,000 test images; time: the training epochs only.",
        "",
        "| axis | value | final train loss | validation accuracy | test accuracy | time (s) |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        value = row["value"] + (" (default)" if defaults[row["axis"]] == row["value"] else "")
        if row["status"] != "finished":
            value += f" ({row['status']})"
        lines.append(
            f"| {row['axis']} | {value} | {row['train_loss']:.4f} | "
            f"{row['validation_accuracy']:.4f} | {row['test_accuracy']:.4f} | "
            f"{row['train_time_s']:.1f} |"
        )
    lines += ["", "![test accuracy per variant](summary.png)", ""]
    return "\n".join(lines)
