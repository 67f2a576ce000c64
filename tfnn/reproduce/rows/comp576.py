"""COMP 576: the moons networks' losses and decision boundaries, and the MNIST CNN."""

from __future__ import annotations

from pathlib import Path

from tfnn.reproduce import figures
from tfnn.reproduce import sections as s
from tfnn.reproduce.rows.context import (
    QUICK_NOTE,
    Context,
    PartReport,
    Row,
    training_loss_png,
)
from tfnn.results import read_results

# Moons: "matches" when our loss is within this relative distance of the report's.
MOONS_TOLERANCE = 0.01


def _moons_note(context: Context, loss: float, report: float | None) -> str:
    if report is None:
        return "no number to compare"
    if context.reduced:
        return QUICK_NOTE
    if abs(loss - report) <= MOONS_TOLERANCE * report:
        return f"matches ({(loss - report) / report:+.2%})"
    if abs(10 * loss - report) <= MOONS_TOLERANCE * report:
        return (
            f"the report's typo: 10 × ours = {10 * loss:.4f}, so its 0.7076 drops a 0 "
            "(0.07076; it calls the tanh and sigmoid results very similar)"
        )
    return f"differs by {(loss - report) / report:+.1%}: not explained"


def comp576_moons(context: Context) -> PartReport:
    study = read_results(context.sources["study"])
    options = {"steps": study["steps"]}
    if context.settings.get("steps_per_epoch"):
        options["steps_per_epoch"] = context.settings["steps_per_epoch"]
    rows = []
    for row in study["runs"]:
        config = read_results(row["run_dir"])["config"]
        report = row["report_train_loss"]
        rows.append(
            Row(
                f"{row['preset']}: final training loss",
                "figure only" if report is None else f"{report:g}",
                f"{row['train_loss']:.5f}",
                f"make_moons({config['samples']}, noise {config['noise']:g}, seed "
                f"{config['seed']}), {config['steps']:,} full-batch steps of {config['optimizer']} "
                f"lr {config['learning_rate']:g} on the mean loss (the assignment's 0.01 on the "
                f"sum), L2 {config['l2']:g}",
                s.moons_command(row["preset"], options),
                _moons_note(context, row["train_loss"], report),
            )
        )
    path = figures.copy(
        Path(context.sources["study"]) / "decision_boundaries.png",
        context.out_dir,
        "comp576-moons-boundaries.png",
    )
    caption = "decision boundaries of the six networks (parts 1e and 2)"
    return PartReport(rows, [(caption, path)] if path else [])


def comp576_cnn(context: Context) -> PartReport:
    results = read_results(context.sources["run"])
    config = results["config"]
    metrics = results["metrics"]
    steps = config["steps"] or results["steps_per_epoch"] * results["epochs_completed"]
    rows = [
        Row(
            "test accuracy",
            "not printed (loss curve, graphs and t-SNE only)",
            f"{metrics['test_accuracy']:.4f} (test loss {metrics['test_loss']:.4f})",
            f"conv 5×5×32, pool, conv 5×5×64, pool, fc 1024, dropout {config['dropout']:g}; "
            f"{config['init']}({config['init_std']:g}) weights, biases {config['bias_init']:g}, "
            f"{config['optimizer']} lr {config['learning_rate']:g}, batch {config['batch_size']}, "
            f"{steps:,} steps on {results['train_samples']:,} images "
            f"({results['validation_samples']:,} validation), {results['test_samples']:,} test",
            s.cnn_command(context.settings),
            "no number to compare",
        )
    ]
    run_dir = Path(results["run_dir"])
    loss = training_loss_png("MNIST CNN: loss vs iterations", "training step", run_dir, "step_loss")
    found = [
        ("training loss (part 3a i)", figures.save(loss, context.out_dir, "comp576-cnn-loss.png")),
        (
            "t-SNE of the fc1 activations of test images",
            figures.copy(run_dir / "tsne.png", context.out_dir, "comp576-cnn-tsne.png"),
        ),
        (
            "t-SNE of the fc1 weights (part 3b ii)",
            figures.copy(
                run_dir / "tsne_fc1_weights.png", context.out_dir, "comp576-cnn-tsne-weights.png"
            ),
        ),
    ]
    return PartReport(rows, [(caption, path) for caption, path in found if path])
