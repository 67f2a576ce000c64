"""The 2-12-5 softplus network trained by hand-written backpropagation."""

from __future__ import annotations

from pathlib import Path

from tfnn.reproduce import figures
from tfnn.reproduce import sections as s
from tfnn.reproduce.rows.context import (
    STAND_IN_NOTE,
    Context,
    PartReport,
    Row,
    training_loss_png,
)
from tfnn.results import read_results

# Softplus report: train accuracy 65.75 %, test accuracy 66 %, test cross-entropy 0.702.
SOFTPLUS_REPORT = (
    ("train accuracy", "train_accuracy", 0.6575),
    ("test accuracy", "test_accuracy", 0.66),
    ("test cross-entropy", "test_cross_entropy", 0.702),
)


def softplus(context: Context) -> PartReport:
    results = read_results(context.sources["run"])
    config = results["config"]
    settings = (
        f"2-{config['hidden']}-5 softplus/softmax ({results['parameters']} parameters), "
        f"full-batch steepest descent lr {config['learning_rate']:g}, {config['epochs']} "
        f"epochs, hand-written backprop; {results['train_samples']} train / "
        f"{results['test_samples']} test points"
    )
    command = s.softplus_command(context.settings)
    rows = [
        Row(name, f"{report:g}", f"{results['metrics'][key]:.4f}", settings, command, STAND_IN_NOTE)
        for name, key, report in SOFTPLUS_REPORT
    ]
    run_dir = results["run_dir"]
    loss = training_loss_png(
        "2-12-5 network: training loss", "epoch (full-batch step)", run_dir, "epoch_loss"
    )
    found = [
        ("training loss per epoch", figures.save(loss, context.out_dir, "softplus-loss.png")),
        (
            "test confusion matrix",
            figures.copy(
                Path(run_dir) / "confusion_matrix.png", context.out_dir, "softplus-confusion.png"
            ),
        ),
        (
            "decision boundaries over the training points",
            figures.copy(
                Path(run_dir) / "decision_boundary.png", context.out_dir, "softplus-boundary.png"
            ),
        ),
    ]
    return PartReport(rows, [(caption, path) for caption, path in found if path])
