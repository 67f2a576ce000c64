"""EECE 8740 HW1: the small and the large dense MNIST network (``tfnn study dnn-compare``)."""

from __future__ import annotations

from pathlib import Path

from tfnn.reproduce import figures
from tfnn.reproduce import sections as s
from tfnn.reproduce.rows.context import QUICK_NOTE, Context, PartReport, Row
from tfnn.results import read_results


def eece8740(context: Context) -> PartReport:
    study = read_results(context.sources["study"])
    small, large = study["runs"][0], study["runs"][-1]
    settings = (
        f"{small['activation']}, {small['optimizer']} lr {small['learning_rate']:g} (the "
        f"report's choice), batch {small['batch_size']}, {small['epochs']} epoch(s) on "
        f"{small['train_samples']:,} images ({small['validation_samples']:,} held out for the "
        f"curves; the report trained on all 60,000), {small['test_samples']:,} test"
    )
    command = s.study_command("dnn-compare", context.settings)

    def claim(holds: bool) -> str:
        if context.reduced:
            return QUICK_NOTE
        return "agrees" if holds else "does not agree: not explained (one seed per network)"

    def pair(key: str, number: str = "{:.4f}") -> str:
        return (
            f"{small['network']}: {number.format(small[key])}; "
            f"{large['network']}: {number.format(large[key])}"
        )

    rows = [
        Row(
            "test loss",
            "Fig. 4: the larger network's is lower",
            pair("test_loss"),
            settings,
            command,
            claim(large["test_loss"] < small["test_loss"]),
        ),
        Row(
            "test accuracy",
            "Fig. 5: the larger network's is a bit lower",
            pair("test_accuracy"),
            settings,
            command,
            claim(large["test_accuracy"] < small["test_accuracy"]),
        ),
        Row(
            "training time (s)",
            "Fig. 6: the larger network takes a lot more",
            pair("train_time_s", "{:.1f}") + f" ({pair('epoch_time_s', '{:.2f}')} per epoch)",
            settings,
            command,
            claim(large["epoch_time_s"] > small["epoch_time_s"]),
        ),
    ]
    study_dir = Path(context.sources["study"])
    found = [
        (
            "train/validation accuracy and loss per epoch (Figs. 2-3)",
            figures.copy(study_dir / "curves.png", context.out_dir, "eece8740-curves.png"),
        ),
        (
            "test loss, test accuracy, time, parameters (Figs. 4-6)",
            figures.copy(study_dir / "bars.png", context.out_dir, "eece8740-bars.png"),
        ),
    ]
    return PartReport(rows, [(caption, path) for caption, path in found if path])
