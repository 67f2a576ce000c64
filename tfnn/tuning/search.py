"""`tfnn tune`: keras-tuner's RandomSearch, then the best configuration retrained and tested once.

The search loop, the oracle, per-trial TensorBoard runs with HParams, resuming
and the distributed chief/worker protocol are keras-tuner's own
(``tfnn.tuning.tuner``); this module drives them: data loaded once, the search
in one process or served to workers, the cross-validated choice among the best
trials (``tfnn.tuning.rerank``), the retrain and test of the best, and
``best.json``/``best.md`` (``tfnn.tuning.report``).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import keras_tuner

from tfnn.configs.mnist import MnistDnnConfig
from tfnn.configs.tune import TuneConfig
from tfnn.data.digits import load_digits
from tfnn.distribute.launch import free_port
from tfnn.errors import TfnnError
from tfnn.experiments.mnist import load_mnist_for
from tfnn.results import command_line, library_versions, write_json
from tfnn.training.streams import EVALUATION_BATCH_SIZE, make_dataset
from tfnn.tuning.distributed import (
    chief_environment,
    cross_validate_on_workers,
    serve_workers,
)
from tfnn.tuning.hypermodels import HYPERMODELS, ConfigHyperModel
from tfnn.tuning.lanes import search_lanes
from tfnn.tuning.pack_programs import program_seconds
from tfnn.tuning.report import (
    active_values,
    best_cross_validation,
    best_markdown,
    cross_validation_summary,
    train_command,
)
from tfnn.tuning.rerank import metric, rank_trials, rerank_trials
from tfnn.tuning.splits import SearchData, split_for_search
from tfnn.tuning.trial_logs import RETRAINED_RUN, retrained_callbacks, write_test_point
from tfnn.tuning.trial_memory import frozen_garbage
from tfnn.tuning.tuner import (
    ENDED_STATUSES,
    FIT_FILE,
    TENSORBOARD_DIR,
    PrintFunction,
    TfnnRandomSearch,
    make_tuner,
    run_trials,
)

__all__ = ["load_search_data", "run_search", "cross_validate_trials", "run_role", "train_command"]

BEST_JSON = "best.json"
BEST_MARKDOWN = "best.md"
TOP_TRIALS = 10


def load_search_data(config: TuneConfig) -> SearchData:
    """Loads the experiment's data once and holds out the validation part."""
    if config.experiment == "digits":
        dataset = load_digits(config.split, config.seed)
    else:
        dataset = load_mnist_for(
            MnistDnnConfig(data=config.data, train_samples=config.train_samples)
        )
    return split_for_search(dataset, config.validation_fraction, config.seed)


def _hypermodel(config: TuneConfig, data: SearchData) -> ConfigHyperModel:
    return HYPERMODELS[config.experiment](data, config)


def run_search(config: TuneConfig, ended_before: set[str], print_fn: PrintFunction = print) -> dict:
    """Loads data once, runs (or continues) the search, reports the best.

    Args:
        config: The search settings.
        ended_before: Trial ids that had ended before this run (not timed here).
        print_fn: Where progress goes.

    Returns:
        The content of ``best.json``.
    """
    data = load_search_data(config)
    hypermodel = _hypermodel(config, data)
    programs_before = program_seconds()
    if config.workers == 1:
        tuner = make_tuner(config, hypermodel, print_fn)
        started = time.perf_counter()
        run_trials(tuner)
        wall_seconds = time.perf_counter() - started
    else:
        port = free_port()
        with chief_environment(port):
            tuner = make_tuner(config, hypermodel, print_fn)
        # What keras-tuner's chief does before serving: quiet oracle (trials print
        # their own line), state saved.
        tuner.oracle.verbose = 0
        tuner.save()
        wall_seconds = serve_workers(config, tuner.oracle, port, print_fn)
    # The workers' programs run in their own processes: only one process is counted.
    search_programs = program_seconds() - programs_before if config.workers == 1 else None
    return report_best(
        config, tuner, hypermodel, wall_seconds, ended_before, print_fn, search_programs
    )


def cross_validate_trials(config: TuneConfig, trial_ids: list[str]) -> None:
    """One process's share of the cross-validation of ``--workers N``: writes each
    trial's ``cv.json``, which :func:`report_best` then reads."""
    hypermodel = _hypermodel(config, load_search_data(config))
    project = config.project_path.resolve()
    trials = [
        keras_tuner.engine.trial.Trial.load(str(project / f"trial_{trial_id}" / "trial.json"))
        for trial_id in trial_ids
    ]
    with frozen_garbage():
        rerank_trials(hypermodel, trials, project, config.cv_folds, config.seed, config.objective)


def run_role(config: TuneConfig) -> None:
    """One process of a distributed search: the chief serves the oracle, a worker runs trials.

    keras-tuner picks the role from ``KERASTUNER_TUNER_ID`` ("chief" or "tunerN").
    """
    hypermodel = _hypermodel(config, load_search_data(config))
    run_trials(make_tuner(config, hypermodel))


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)


def _read_fit_file(trial_dir: Path) -> dict:
    try:
        return json.loads((trial_dir / FIT_FILE).read_text())
    except (OSError, ValueError):
        return {}


def report_best(
    config: TuneConfig,
    tuner: TfnnRandomSearch,
    hypermodel: ConfigHyperModel,
    wall_seconds: float,
    ended_before: set[str],
    print_fn: PrintFunction = print,
    search_programs: float | None = None,
) -> dict:
    """Retrains the best trial's configuration on the whole training split, tests it
    once, and writes ``best.json`` and ``best.md`` into the project directory.

    Args:
        search_programs: Seconds the search's pack programs ran in this process (all
            lanes), or None where they ran elsewhere.

    Returns:
        The content of ``best.json``.

    Raises:
        TfnnError: No trial completed.
    """
    project = Path(tuner.project_dir)
    trials = tuner.oracle.trials
    completed = [trial for trial in trials.values() if trial.status == "COMPLETED"]
    if not completed:
        raise TfnnError(f"no trial completed in {config.project_path}: nothing to report")
    ranked = rank_trials(completed, config.objective)
    best_trials = ranked[:TOP_TRIALS]
    best = ranked[0]
    fit_files = {trial_id: _read_fit_file(project / f"trial_{trial_id}") for trial_id in trials}
    cross_validation, cross_validation_seconds = [], 0.0
    candidates = ranked[: config.rerank_top]
    cross_validation_programs = None
    if len(candidates) > 1:
        started, programs_before = time.perf_counter(), program_seconds()
        if config.workers > 1:
            cross_validate_on_workers(
                config,
                {
                    trial.trial_id: fit_files[trial.trial_id].get("fit_seconds", 1.0)
                    for trial in candidates
                },
                print_fn,
            )
        with frozen_garbage():
            cross_validation = rerank_trials(
                hypermodel,
                candidates,
                project,
                config.cv_folds,
                config.seed,
                config.objective,
                print_fn,
            )
        cross_validation_seconds = time.perf_counter() - started
        if config.workers == 1:
            cross_validation_programs = program_seconds() - programs_before
        if not cross_validation[0].failed:
            best = trials[cross_validation[0].trial_id]

    ended_now = [
        trial_id
        for trial_id, trial in trials.items()
        if trial.status in ENDED_STATUSES and trial_id not in ended_before
    ]
    fit_seconds = sum(fit_files[trial_id].get("fit_seconds", 0.0) for trial_id in ended_now)
    # With N workers of L lanes each the search has N·L times the wall time to spend on
    # fitting (a packed trial's fit time is its share of its lane's time).
    lanes = search_lanes(config)
    worker_seconds = wall_seconds * config.workers * lanes
    overhead_seconds = worker_seconds - fit_seconds
    resident = [
        fit_files[trial_id]["resident_mb"]
        for trial_id in ended_now
        if fit_files[trial_id].get("resident_mb") is not None
    ]

    best_config = hypermodel.config_from_hp(best.hyperparameters.copy())
    retrained_run = project / TENSORBOARD_DIR / RETRAINED_RUN
    shutil.rmtree(retrained_run, ignore_errors=True)  # a rerun retrains: one set of curves
    model, history, retrain_seconds = hypermodel.retrain(
        best.hyperparameters.copy(), retrained_callbacks(retrained_run)
    )
    dataset = hypermodel.data.dataset
    # The only time the search touches the test set.
    test_loss, test_accuracy = model.evaluate(
        make_dataset(dataset.x_test, dataset.y_test, EVALUATION_BATCH_SIZE, False, 0), verbose=0
    )
    write_test_point(retrained_run, test_loss, test_accuracy, best_config.epochs)
    model.save(project / "best_model.keras")

    def trial_row(trial) -> dict:
        return {
            "trial_id": trial.trial_id,
            "score": trial.score,
            "val_accuracy": metric(trial, "val_accuracy"),
            "val_loss": metric(trial, "val_loss"),
            "fit_seconds": fit_files[trial.trial_id].get("fit_seconds"),
            "hyperparameters": active_values(trial.hyperparameters),
        }

    summary = {
        "experiment": config.experiment,
        "project_dir": str(config.project_path),
        "objective": config.objective,
        "seed": config.seed,
        "validation": {
            "fraction_of_training_split": config.validation_fraction,
            "fit_samples": len(hypermodel.data.x_fit),
            "validation_samples": len(hypermodel.data.x_validation),
        },
        "trials": {
            "requested": config.trials,
            "total": len(trials),
            "completed": len(completed),
            "failed": sum(trial.status == "FAILED" for trial in trials.values()),
            "ended_in_this_run": len(ended_now),
        },
        "best": {
            **trial_row(best),
            **best_cross_validation(cross_validation, best.trial_id),
            "test_accuracy": float(test_accuracy),
            "test_loss": float(test_loss),
            "retrain_samples": len(dataset.x_train),
            "test_samples": len(dataset.x_test),
            "retrain_seconds": round(retrain_seconds, 3),
            "retrain_final_loss": float(history.history["loss"][-1]),
            "config": best_config.to_dict(),
            "train_command": train_command(best_config),
        },
        "top_trials": [trial_row(trial) for trial in best_trials],
        "cross_validation": cross_validation_summary(
            config, cross_validation, trials, ranked[0], cross_validation_seconds
        ),
        "timing": {
            "workers": config.workers,
            "lanes": lanes,
            "search_wall_seconds": round(wall_seconds, 3),
            "cross_validation_seconds": round(cross_validation_seconds, 3),
            # From the first trial to the chosen configuration (the retrain follows).
            "selection_wall_seconds": round(wall_seconds + cross_validation_seconds, 3),
            "trials_per_minute": round(len(ended_now) / max(wall_seconds, 1e-9) * 60, 3),
            "fit_seconds": round(fit_seconds, 3),
            "overhead_seconds": round(overhead_seconds, 3),
            "overhead_percent": round(100 * overhead_seconds / max(worker_seconds, 1e-9), 2),
            # Where the lanes' time went: in the compiled pack programs, or around them
            # (Keras builds, callbacks, the oracle: Python, one lane at a time).
            "search_program_seconds": _rounded(search_programs),
            "cross_validation_program_seconds": _rounded(cross_validation_programs),
            "resident_mb_first_last": [resident[0], resident[-1]] if resident else None,
        },
        "tensorboard": f"tfnn board --logdir {config.project_path / TENSORBOARD_DIR}",
        "command": command_line(),
        "versions": library_versions(),
    }
    write_json(project / BEST_JSON, summary)
    markdown = best_markdown(summary)
    (project / BEST_MARKDOWN).write_text(markdown)
    print_fn("\n" + markdown, flush=True)
    return summary
