"""``best.json``'s parts and ``best.md``: what a search reports about its best trial."""

from __future__ import annotations

import dataclasses

from tfnn.configs.tune import TuneConfig
from tfnn.configs.validation import flag
from tfnn.tuning.rerank import CrossValidation, metric


def active_values(hyperparameters) -> dict:
    """The values a trial used (``l2`` only where ``use_l2`` is on)."""
    return {
        name: value
        for name, value in hyperparameters.values.items()
        if hyperparameters.is_active(name)
    }


def format_value(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def train_command(config) -> str:
    """The `tfnn train` command line that trains ``config`` (flags that differ from defaults)."""
    defaults = type(config)()
    words = ["tfnn", "train", config.experiment]
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if value == getattr(defaults, field.name):
            continue
        if isinstance(value, bool):
            words.append(flag(field.name) if value else "--no-" + flag(field.name)[2:])
        elif isinstance(value, tuple):
            words += [flag(field.name), ",".join(str(item) for item in value)]
        else:
            words += [flag(field.name), repr(value) if isinstance(value, float) else str(value)]
    return " ".join(words)


def best_cross_validation(ranking: list[CrossValidation], trial_id: str) -> dict:
    """The chosen trial's cross-validation means, when it had any."""
    result = next((result for result in ranking if result.trial_id == trial_id), None)
    if result is None:
        return {}
    values = result.to_dict()
    return {
        "cv_accuracy": values["mean_accuracy"],
        "cv_accuracy_std": values["accuracy_std"],
        "cv_loss": values["mean_loss"],
    }


def cross_validation_summary(
    config: TuneConfig,
    ranking: list[CrossValidation],
    trials: dict,
    validation_best,
    seconds: float,
) -> dict | None:
    """best.json's account of the cross-validation that chose among the top trials
    (None when the validation split alone chose)."""
    if not ranking:
        return None
    return {
        "folds": config.cv_folds,
        "candidates": len(ranking),
        "seconds": round(seconds, 3),
        "chosen_trial_id": ranking[0].trial_id if not ranking[0].failed else None,
        "validation_best_trial_id": validation_best.trial_id,
        "ranking": [
            {
                **result.to_dict(),
                "val_accuracy": metric(trials[result.trial_id], "val_accuracy"),
                "hyperparameters": active_values(trials[result.trial_id].hyperparameters),
            }
            for result in ranking
        ],
    }


def _cell(value) -> str:
    if value is None:
        return ""
    return format_value(value).replace("|", "\\|")


def _trials_table(rows: list[dict], columns: dict[str, str]) -> list[str]:
    """A Markdown table of trials: rank, trial id, ``columns`` (header: key), then
    every hyperparameter any row has."""
    names = list(dict.fromkeys(name for row in rows for name in row["hyperparameters"]))
    headers = ["rank", "trial", *columns, *names]
    lines = ["| " + " | ".join(headers) + " |", "| --- " * len(headers) + "|"]
    for rank, row in enumerate(rows, start=1):
        cells = [
            str(rank),
            row["trial_id"],
            *(_cell(row[key]) for key in columns.values()),
            *(_cell(row["hyperparameters"].get(name)) for name in names),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def best_markdown(summary: dict) -> str:
    """``best.md``: the best configuration, its accuracies, the top trials and the timing."""
    best, timing, trials = summary["best"], summary["timing"], summary["trials"]
    validation, cross_validation = summary["validation"], summary.get("cross_validation")
    if cross_validation and cross_validation["chosen_trial_id"]:
        chosen_by = (
            f"Chosen by {cross_validation['folds']}-fold cross-validation among the top "
            f"{cross_validation['candidates']} trials by {summary['objective']} (the "
            f"validation split alone ranks trial {cross_validation['validation_best_trial_id']}"
            " first)."
        )
    else:
        chosen_by = f"Chosen by {summary['objective']} on the validation split."
    lines = [
        f"# tfnn tune {summary['experiment']}: best of {trials['completed']} completed trials",
        "",
        f"Project `{summary['project_dir']}`, objective `{summary['objective']}` on "
        f"{validation['validation_samples']} held-out training samples "
        f"({validation['fraction_of_training_split']:g} of the training split, stratified, "
        f"seed {summary['seed']}); {trials['failed']} trials failed.",
        "",
        f"## Best: trial {best['trial_id']}",
        "",
        chosen_by,
        "",
        "| hyperparameter | value |",
        "| --- | --- |",
        *(f"| {name} | {_cell(value)} |" for name, value in best["hyperparameters"].items()),
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| validation accuracy (trial) | {_cell(best['val_accuracy'])} |",
        f"| validation loss (trial) | {_cell(best['val_loss'])} |",
        *(
            [
                f"| cross-validation accuracy ({cross_validation['folds']} folds) | "
                f"{_cell(best['cv_accuracy'])} ± {_cell(best['cv_accuracy_std'])} |"
            ]
            if best.get("cv_accuracy") is not None
            else []
        ),
        f"| test accuracy (retrained on all {best['retrain_samples']} training samples, "
        f"tested once on {best['test_samples']}) | {best['test_accuracy']:.4f} |",
        f"| test loss | {best['test_loss']:.4f} |",
        "",
        f"Reproduce: `{best['train_command']}`",
        "",
        f"## Top {len(summary['top_trials'])} trials by {summary['objective']}",
        "",
        *_trials_table(
            summary["top_trials"],
            {"val_accuracy": "val_accuracy", "val_loss": "val_loss", "fit s": "fit_seconds"},
        ),
    ]
    if cross_validation:
        lines += [
            "",
            f"## {cross_validation['folds']}-fold cross-validation of the top "
            f"{cross_validation['candidates']}",
            "",
            f"All {best['retrain_samples']} training samples, stratified folds (seed "
            f"{summary['seed']}); each fold trains as the trial did. Best mean first.",
            "",
            *_trials_table(
                cross_validation["ranking"],
                {
                    "cv accuracy": "mean_accuracy",
                    "± (sd over folds)": "accuracy_std",
                    "cv loss": "mean_loss",
                    "val_accuracy (search)": "val_accuracy",
                    "s": "seconds",
                },
            ),
        ]
    lines += [
        "",
        "## Timing (this run)",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| workers | {timing['workers']} |",
        f"| lanes per worker (packs trained at once) | {timing.get('lanes', 1)} |",
        f"| trials ended | {trials['ended_in_this_run']} (of {trials['total']} in the project) |",
        f"| search wall time | {timing['search_wall_seconds']:.1f} s |",
        f"| trials per minute | {timing['trials_per_minute']:.2f} |",
        f"| sum of trial fit times | {timing['fit_seconds']:.1f} s |",
        f"| keras-tuner overhead (workers x lanes x wall - fits) | "
        f"{timing['overhead_seconds']:.1f} s "
        f"({timing['overhead_percent']:.1f} %) |",
        f"| cross-validation of the top trials | {timing['cross_validation_seconds']:.1f} s |",
        *_program_rows(timing),
        "",
        f"TensorBoard: `{summary['tensorboard']}`",
        "",
    ]
    return "\n".join(lines)


def _program_rows(timing: dict) -> list[str]:
    """How much of the lanes' time the compiled pack programs took (where this process
    ran them): the rest is Python around them."""
    rows = []
    for part, key, wall in (
        ("search", "search_program_seconds", "search_wall_seconds"),
        ("cross-validation", "cross_validation_program_seconds", "cross_validation_seconds"),
    ):
        seconds = timing.get(key)
        if seconds:
            lanes = timing.get("lanes", 1) * timing[wall]
            rows.append(
                f"| {part}: compiled pack programs (all lanes) | {seconds:.1f} s "
                f"({100 * seconds / max(lanes, 1e-9):.0f} % of lanes x wall) |"
            )
    return rows
