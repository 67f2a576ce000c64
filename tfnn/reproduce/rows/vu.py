"""VU DL A2: the MNIST MLP settings over seeds (``tfnn study vu-mlp``)."""

from __future__ import annotations

from pathlib import Path

from tfnn.reproduce import figures
from tfnn.reproduce import sections as s
from tfnn.reproduce.rows.context import Context, PartReport, Row, plus_minus, seed_note
from tfnn.results import read_results


def vu_mlp(context: Context) -> PartReport:
    study = read_results(context.sources["study"])
    rows = []
    for row in study["rows"]:
        if row["report_accuracy"] is None:
            continue
        first = read_results(row["runs"][0]["run_dir"])
        config = first["config"]
        width = "-".join(str(units) for units in config["arch"])
        budget = f"{study['steps']} steps" if study["steps"] else f"{config['epochs']} epochs"
        rows.append(
            Row(
                f"{row['axis']} {row['value']}: validation accuracy",
                f"{row['report_accuracy']:.3f}",
                f"{plus_minus(row['validation_accuracy_mean'], row['validation_accuracy_std'])} "
                f"(test {plus_minus(row['test_accuracy_mean'], row['test_accuracy_std'])}), "
                f"{len(row['runs'])} seed{'s' if len(row['runs']) > 1 else ''}",
                f"784-{width}-10 {config['activation']}, plain SGD lr {config['learning_rate']:g} "
                f"(the report states none), batch {config['batch_size']}, {budget} on "
                f"{first['train_samples']:,} images, {first['validation_samples']:,} held out",
                s.study_command("vu-mlp", context.settings),
                seed_note(
                    context,
                    row["validation_accuracy_mean"],
                    row["validation_accuracy_std"],
                    row["report_accuracy"],
                    "not explained (the report is one run; its learning rate is not stated)",
                ),
            )
        )
    path = figures.copy(
        Path(context.sources["study"]) / "summary.png", context.out_dir, "vu-mlp-summary.png"
    )
    caption = "test accuracy per setting, mean ± std over seeds; x: the report's number"
    return PartReport(rows, [(caption, path)] if path else [])
