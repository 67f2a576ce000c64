"""`tfnn study dnn-compare`: the EECE 8740 HW1 pair of dense MNIST networks.

Trains (or, with ``from_runs``, reads) 784-150-120-10 and 784-500-250-100-10
(presets ``eece-small`` and ``eece-large``) and writes into
``<logdir>/studies/dnn-compare/<timestamp>-<settings>/``:

- ``mnist-dnn/<run>/``: each network's ordinary ``tfnn train mnist-dnn`` run
  (absent with ``from_runs``);
- ``curves.png``: train and validation accuracy and loss per epoch, read back
  from the runs' TensorBoard event files;
- ``bars.png``: test loss, test accuracy, time per epoch, total time, parameters;
- ``REPORT.md``: the numbers, and the report's claim checked against them;
- ``results.json``: the same numbers, machine-readable.

Every number comes from the runs' ``results.json`` and event files, so a
report made from old runs says exactly what those runs measured.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from tfnn import plots
from tfnn.configs.mnist import MNIST_DNN_PRESETS, MnistDnnConfig
from tfnn.errors import ConfigError
from tfnn.experiments.mnist import MNIST_DNN
from tfnn.experiments.spec import run_experiment
from tfnn.plots.canvas import new_figure
from tfnn.results import RESULTS_FILE, read_results, write_results
from tfnn.rundir import create_run_dir
from tfnn.studies.grid import held_out_samples
from tfnn.studies.scalars import epoch_scalars
from tfnn.tensorboard.images import write_image

PRESETS = ("eece-small", "eece-large")
CURVES = (("accuracy", "epoch_accuracy"), ("loss", "epoch_loss"))
SUB_RUNS = ("train", "validation")
# EECE 8740 HW1 report (shared/reports/003_1d9cada04080a9fd.txt), figures 4-6.
REPORT_CLAIM = (
    "not only we have lost a bit of accuracy in the more complex network, but we also "
    "spend a lot more time on achieving a similar, or even worse result"
)


def layer_sizes(config: dict) -> str:
    """``784-150-120-10`` from a run's recorded config (MNIST: 784 inputs, 10 classes)."""
    return "-".join(str(width) for width in (784, *config["arch"], 10))


def dense_parameters(sizes: Sequence[int]) -> int:
    """Weights plus biases of a stack of dense layers of these widths."""
    return sum(
        (fan_in + 1) * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True)
    )


def run_study(
    logdir: str = "logs",
    steps: int = 0,
    seed: int = 0,
    epochs: int = 50,
    train_samples: int = 0,
    from_runs: Sequence[str] = (),
    print_fn: Callable[..., None] = print,
) -> Path:
    """Trains or reads the two EECE networks and writes REPORT.md with its plots.

    Args:
        logdir: Log root; the study directory is made under ``studies/dnn-compare``.
        steps: Training steps of each run, replacing ``epochs`` when > 0.
        seed: Seed of the data split and the weights of each run.
        epochs: Passes over the training set (the report's 50).
        train_samples: Use only the first N training images (0: all 60,000).
        from_runs: Two existing ``mnist-dnn`` run directories to report on
            instead of training; the other arguments are then ignored.
        print_fn: Where the one line per run goes.

    Returns:
        The study directory.
    """
    if from_runs:
        if len(from_runs) != 2:
            raise ConfigError(f"{{from_runs}} needs two run directories, got {len(from_runs)}")
        runs = [_read_run(run_dir) for run_dir in from_runs]
        study_dir = create_run_dir(logdir, "studies/dnn-compare", "from-runs")
    else:
        overrides = dict(
            epochs=epochs,
            steps=steps,
            train_samples=train_samples,
            validation_samples=held_out_samples(train_samples),
            seed=seed,
            embedding_samples=0,
            logdir=logdir,
        )
        # Both configs are built (and validated) before anything is written.
        configs = [MnistDnnConfig(**{**MNIST_DNN_PRESETS[name], **overrides}) for name in PRESETS]
        budget = f"s{steps}" if steps else f"e{epochs}"
        study_dir = create_run_dir(
            logdir, "studies/dnn-compare", f"{budget}-n{train_samples or 'all'}-seed{seed}"
        )
        runs = []
        for index, config in enumerate(configs, start=1):
            # Runs go inside the study, so TensorBoard on the study compares just them.
            run_config = dataclasses.replace(config, logdir=str(study_dir))
            runs.append(run_experiment(MNIST_DNN, run_config, print_fn=lambda *_, **__: None))
            print_fn(
                f"[{index}/{len(configs)}] {layer_sizes(runs[-1]['config'])}: test accuracy "
                f"{runs[-1]['metrics']['test_accuracy']:.4f}, {runs[-1]['train_time_s']:.1f} s",
                flush=True,
            )

    # Smaller network first, whatever order the runs came in.
    rows = sorted((_row(results) for results in runs), key=lambda row: row["parameters"])
    curves_png = curves_figure(rows)
    bars_png = bars_figure(rows)
    write_image(study_dir, "curves", curves_png, step=0, png_path=study_dir / "curves.png")
    write_image(study_dir, "bars", bars_png, step=0, png_path=study_dir / "bars.png")
    report = report_markdown(rows)
    (study_dir / "REPORT.md").write_text(report)
    # Read runs keep their own seeds (in rows); the study's seed applies only to new runs.
    write_results(
        study_dir,
        {"study": "dnn-compare", "seed": None if from_runs else seed, "runs": rows},
    )
    print_fn("\n" + report)
    return study_dir


def _read_run(run_dir: str) -> dict:
    path = Path(run_dir)
    if not (path / RESULTS_FILE).is_file():
        raise ConfigError(
            f"{{from_runs}} {run_dir!r}: no {RESULTS_FILE} there; give a run directory"
        )
    results = read_results(path)
    if results.get("experiment") != MnistDnnConfig.experiment or results.get("status") != (
        "finished"
    ):
        raise ConfigError(
            f"{{from_runs}} {run_dir!r}: not a finished mnist-dnn run "
            f"({results.get('experiment')}, {results.get('status')})"
        )
    return results


def _row(results: dict) -> dict:
    """The numbers REPORT.md shows for one run, all from its results.json and events."""
    config = results["config"]
    run_dir = results["run_dir"]
    epoch_times = results["epoch_times_s"]
    # A run without held-out images (--validation-samples 0) logs its per-epoch
    # curves against the test set instead.
    monitor = "validation" if results["validation_samples"] else "test"
    curves = {
        f"{sub_run}_{name}": epoch_scalars(run_dir, source, tag)
        for sub_run, source in zip(SUB_RUNS, ("train", monitor), strict=True)
        for name, tag in CURVES
    }
    return {
        "network": layer_sizes(config),
        "seed": results["seed"],
        "parameters": results["parameters"],
        "activation": config["activation"],
        "optimizer": config["optimizer"],
        "learning_rate": config["learning_rate"],
        "batch_size": config["batch_size"],
        "epochs": results["epochs_completed"],
        "train_samples": results["train_samples"],
        "validation_samples": results["validation_samples"],
        "test_samples": results["test_samples"],
        "monitor": monitor,
        **results["metrics"],
        "first_epoch_s": epoch_times[0],
        # The first epoch also traces and XLA-compiles the model; later ones show the cost
        # of the network itself, so they give the time per epoch when there are any.
        "epoch_time_s": sum(epoch_times[1:] or epoch_times) / len(epoch_times[1:] or epoch_times),
        "train_time_s": results["train_time_s"],
        "curves": {name: [list(point) for point in points] for name, points in curves.items()},
        "run_dir": run_dir,
    }


def curves_figure(rows: list[dict]) -> bytes:
    """Accuracy and loss per epoch, train (solid) and validation (dashed), one panel per net."""
    figure = new_figure(6 * len(rows), 8)
    for column, row in enumerate(rows):
        for line, (name, _) in enumerate(CURVES):
            axes = figure.add_subplot(len(CURVES), len(rows), line * len(rows) + column + 1)
            for sub_run, style in zip(SUB_RUNS, ("-o", "--s"), strict=True):
                points = np.array(row["curves"][f"{sub_run}_{name}"]).reshape(-1, 2)
                label = row["monitor"] if sub_run == "validation" else sub_run
                axes.plot(points[:, 0], points[:, 1], style, markersize=3, label=label)
            axes.set(title=f"{row['network']}: {name}", xlabel="epoch", ylabel=name)
            axes.grid(alpha=0.3)
            axes.legend()
    return plots.figure_to_png(figure)


def bars_figure(rows: list[dict]) -> bytes:
    """One bar chart per compared quantity, the networks side by side."""
    panels = (
        ("test_loss", "test loss", "{:.4f}"),
        ("test_accuracy", "test accuracy", "{:.4f}"),
        ("epoch_time_s", "time per epoch (s)", "{:.2f}"),
        ("train_time_s", "total training time (s)", "{:.1f}"),
        ("parameters", "parameters", "{:,}"),
    )
    figure = new_figure(4 * len(panels), 4)
    names = [row["network"] for row in rows]
    for index, (key, title, number) in enumerate(panels, start=1):
        axes = figure.add_subplot(1, len(panels), index)
        values = [row[key] for row in rows]
        bars = axes.bar(range(len(rows)), values, color=["tab:blue", "tab:orange"][: len(rows)])
        axes.bar_label(bars, labels=[number.format(value) for value in values])
        axes.set_xticks(range(len(rows)), names, rotation=10)
        axes.set_title(title)
        if key == "test_accuracy":
            # Both nets are near 1: a zoomed axis shows the gap the report talks about.
            low = min(values)
            axes.set_ylim(max(0.0, low - 2 * (1 - low) - 0.01), 1.0)
    return plots.figure_to_png(figure)


def _last(points: list) -> float:
    return points[-1][1] if points else math.nan


def report_markdown(rows: list[dict]) -> str:
    """REPORT.md: settings, the comparison table, the plots and the report's claim checked."""
    small, large = rows[0], rows[-1]
    lines = [
        "# EECE 8740 HW1: 784-150-120-10 vs 784-500-250-100-10 on MNIST",
        "",
        f"Both networks: {small['activation']} hidden layers, softmax output, "
        f"{small['optimizer']} with learning rate {small['learning_rate']:g}, batch "
        f"{small['batch_size']}, {small['epochs']} epoch(s) on {small['train_samples']:,} training "
        f"images; the per-epoch validation curves use {small['validation_samples']:,} held-out "
        f"training images, the test numbers the {small['test_samples']:,} test images. Numbers "
        "come from each run's results.json, the curves from its TensorBoard event files.",
        "",
        "| network | parameters | epochs | final train loss | final train accuracy "
        "| final validation accuracy | test loss | test accuracy | first epoch (s) "
        "| time per epoch (s) | total training time (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['network']} | {row['parameters']:,} | {row['epochs']} | "
            f"{row['train_loss']:.4f} | {row['train_accuracy']:.4f} | "
            f"{_last(row['curves']['validation_accuracy']):.4f}"
            f"{' (test set)' if row['monitor'] == 'test' else ''} | {row['test_loss']:.4f} | "
            f"{row['test_accuracy']:.4f} | {row['first_epoch_s']:.2f} | "
            f"{row['epoch_time_s']:.2f} | "
            f"{row['train_time_s']:.1f} |"
        )
    slower = large["epoch_time_s"] > small["epoch_time_s"]
    not_more_accurate = large["test_accuracy"] <= small["test_accuracy"]
    lower_loss = large["test_loss"] < small["test_loss"]
    accuracy_gap = large["test_accuracy"] - small["test_accuracy"]
    lines += [
        "",
        "Final train loss and accuracy: one evaluation of the trained model on the training "
        "images; final validation accuracy: the last epoch's point of the curve. The first "
        "epoch includes tracing and XLA compilation, so time per epoch is the mean of the "
        "later epochs (the first epoch's when it is the only one).",
        "",
        "![accuracy and loss per epoch](curves.png)",
        "",
        "![test loss, test accuracy, time, parameters](bars.png)",
        "",
        "## The report's claim",
        "",
        f'The report: "{REPORT_CLAIM}" (the larger network is slower and not more accurate; '
        "it also found the larger network's test loss lower despite its lower accuracy).",
        "",
        f"- Slower: {'yes' if slower else 'no'}: {large['epoch_time_s']:.2f} s per epoch "
        f"against {small['epoch_time_s']:.2f} s "
        f"({large['epoch_time_s'] / small['epoch_time_s']:.2f}x), "
        f"{large['parameters'] / small['parameters']:.1f}x the parameters.",
        f"- Not more accurate: {'yes' if not_more_accurate else 'no'}: test accuracy "
        f"{large['test_accuracy']:.4f} against {small['test_accuracy']:.4f} "
        f"({accuracy_gap:+.4f}).",
        f"- Lower test loss: {'yes' if lower_loss else 'no'}: {large['test_loss']:.4f} "
        f"against {small['test_loss']:.4f}.",
        "",
        "Our numbers "
        + (
            "agree with the report's claim."
            if slower and not_more_accurate
            else "do not agree with the report's claim on every point."
        )
        + " One seed each: differences in the third decimal of accuracy are within "
        "seed-to-seed noise.",
        "",
    ]
    return "\n".join(lines)
