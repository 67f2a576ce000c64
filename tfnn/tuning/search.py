"""`tfnn tune`: keras-tuner's RandomSearch, then the best configuration retrained and tested once.

The search loop, the oracle, per-trial TensorBoard runs with HParams, resuming
and the distributed chief/worker protocol are keras-tuner's own; this module
adds what the project needs around them: data loaded once, a one-line report
and a measured fit time per trial, the cross-validated choice among the best
trials (``tfnn.tuning.rerank``), and ``best.json``/``best.md``.

What a trial costs besides its fit (measured on a 20-trial digits search, see
README "Hyperparameter search"): keras-tuner's ``_try_build`` runs two full
garbage collections per trial (``clear_session`` and its own ``gc.collect``),
~0.5 s each with TensorFlow's ~400,000 objects alive, so the search freezes
those objects once (``gc.freeze``); and ``Tuner.run_trial`` saves the weights
after every epoch that improves the objective (~50 ms an h5 file, ~10 per
trial) for ``get_best_models``, which tfnn never calls: it retrains the best
configuration instead, so trials keep no weights.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import math
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import keras
import keras_tuner
import tensorflow as tf
from keras_tuner.src import config as keras_tuner_config
from keras_tuner.src import utils as keras_tuner_utils
from keras_tuner.src.engine import conditions as keras_tuner_conditions

from tfnn.configs.mnist import MnistDnnConfig
from tfnn.configs.tune import TuneConfig
from tfnn.configs.validation import flag
from tfnn.data.digits import load_digits
from tfnn.distribute.launch import free_port
from tfnn.errors import ConfigError, TfnnError
from tfnn.experiments.mnist import load_mnist_for
from tfnn.results import command_line, library_versions, write_json
from tfnn.training.streams import EVALUATION_BATCH_SIZE, make_dataset
from tfnn.tuning.distributed import (
    chief_environment,
    cross_validate_on_workers,
    serve_workers,
)
from tfnn.tuning.hypermodels import HYPERMODELS, ConfigHyperModel
from tfnn.tuning.rerank import CrossValidation, rerank_trials
from tfnn.tuning.splits import SearchData, split_for_search
from tfnn.tuning.trial_memory import (
    custom_gradient_names,
    forget_custom_gradients,
    frozen_garbage,
)

TENSORBOARD_DIR = "tensorboard"
RETRAINED_RUN = "best-retrained"
FIT_FILE = "fit.json"
BEST_JSON = "best.json"
BEST_MARKDOWN = "best.md"
TOP_TRIALS = 10
ENDED_STATUSES = ("COMPLETED", "FAILED")

PrintFunction = Callable[..., None]


class _DropRetracingWarnings(logging.Filter):
    """Every trial builds a new model and so traces new functions: expected, not a problem."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def _save_json_atomically(path, content) -> str:
    """keras-tuner's ``utils.save_json``, but written to a temporary file and renamed."""
    text = json.dumps(content)
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "w") as file:
        file.write(text)
    os.replace(temporary, path)
    return text


def _adjust_keras_tuner() -> None:
    """keras-tuner 1.4.8 behaviours changed for every search in this process.

    - It rewrites ``oracle.json`` and ``trial.json`` in place, so a kill -9
      during a write leaves an empty file and the search cannot be reloaded:
      every state file goes through ``utils.save_json``, made atomic here.
    - ``Parent.to_proto()`` prints each conditional scope's first value ("True")
      on every gRPC call of a distributed search: a leftover debug print.
    - It prints the traceback of every failed trial; trial.json keeps it and the
      per-trial line says what failed, so a NaN trial costs one line, not thirty.
    """
    keras_tuner_utils.save_json = _save_json_atomically
    keras_tuner_conditions.print = lambda *args, **kwargs: None
    keras_tuner_config.DEBUG = False
    logging.getLogger("tensorflow").addFilter(_DropRetracingWarnings())


_adjust_keras_tuner()


def load_search_data(config: TuneConfig) -> SearchData:
    """Loads the experiment's data once and holds out the validation part."""
    if config.experiment == "digits":
        dataset = load_digits(config.split, config.seed)
    else:
        dataset = load_mnist_for(
            MnistDnnConfig(data=config.data, train_samples=config.train_samples)
        )
    return split_for_search(dataset, config.validation_fraction, config.seed)


def tensorboard_callback(log_dir: str | os.PathLike) -> keras.callbacks.TensorBoard:
    """Epoch scalars only: keras-tuner gives each trial its own run dir and HParams."""
    return keras.callbacks.TensorBoard(
        log_dir=str(log_dir), update_freq="epoch", histogram_freq=0, write_graph=False
    )


def _resident_megabytes() -> float | None:
    """This process's resident memory (Linux), to show it stays flat across trials."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def active_values(hyperparameters: keras_tuner.HyperParameters) -> dict:
    """The values a trial used (``l2`` only where ``use_l2`` is on)."""
    return {
        name: value
        for name, value in hyperparameters.values.items()
        if hyperparameters.is_active(name)
    }


def _last_line(text: str | None) -> str:
    """A traceback's last line without the exception's class name."""
    lines = (text or "").strip().splitlines()
    if not lines:
        return "no message"
    return re.sub(r"^[\w.]+(Error|Exception): ", "", lines[-1])


def _format_value(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def repair_reloaded_oracle(oracle: keras_tuner.Oracle) -> None:
    """Makes a reloaded oracle re-run exactly the trials that did not finish.

    keras-tuner saves a trial's file and then ``oracle.json``; a kill between
    the two leaves a finished trial listed as ongoing (it would run twice) or a
    started trial missing from the ongoing list (it would never run). The trial
    files are the truth: ended ones leave the retry queue, unfinished ones join it.
    """
    ended = [
        trial_id for trial_id, trial in oracle.trials.items() if trial.status in ENDED_STATUSES
    ]
    unfinished = [trial_id for trial_id in oracle.trials if trial_id not in ended]
    oracle._retry_queue = [trial_id for trial_id in oracle._retry_queue if trial_id in unfinished]
    oracle._retry_queue += [
        trial_id for trial_id in unfinished if trial_id not in oracle._retry_queue
    ]
    oracle.end_order += [trial_id for trial_id in ended if trial_id not in oracle.end_order]
    for trial_id in ended:
        oracle._run_times[trial_id] = max(1, oracle._run_times[trial_id])


class TfnnRandomSearch(keras_tuner.RandomSearch):
    """keras-tuner's RandomSearch plus a one-line report and a fit-time file per trial.

    Args:
        hypermodel: The experiment's :class:`ConfigHyperModel`.
        print_fn: Where the per-trial lines go.
        **kwargs: ``keras_tuner.RandomSearch`` arguments.
    """

    def __init__(self, hypermodel: ConfigHyperModel, print_fn: PrintFunction = print, **kwargs):
        # Set before keras-tuner's __init__, which may call reload().
        self.print_fn = print_fn
        self.reloaded = False
        super().__init__(hypermodel, **kwargs)

    @property
    def tensorboard_dir(self) -> Path:
        return Path(self.project_dir) / TENSORBOARD_DIR

    def reload(self) -> None:
        super().reload()
        self.reloaded = True
        if not self._is_worker():
            repair_reloaded_oracle(self.oracle)

    def run_trial(self, trial, *args, **kwargs) -> list:
        """keras-tuner's ``Tuner.run_trial`` without its two per-trial callbacks.

        ``SaveBestEpoch`` writes the weights after each improving epoch (for
        ``get_best_models``; tfnn retrains the best configuration instead), and
        ``TunerCallback`` forwards batch and epoch events to tuner hooks this
        tuner does not use. The rest is keras-tuner's: callbacks deep-copied per
        execution, a TensorBoard run dir and HParams per trial,
        ``_build_and_fit_model``.
        """
        original_callbacks = kwargs.pop("callbacks", [])
        histories = []
        for execution in range(self.executions_per_trial):
            copied_kwargs = copy.copy(kwargs)
            callbacks = self._deepcopy_callbacks(original_callbacks)
            self._configure_tensorboard_dir(callbacks, trial, execution)
            copied_kwargs["callbacks"] = callbacks
            histories.append(self._build_and_fit_model(trial, *args, **copied_kwargs))
        return histories

    def load_model(self, trial):
        raise NotImplementedError(
            "tfnn trials keep no weights (see run_trial): build and train "
            "trial.hyperparameters again, as report_best does"
        )

    def on_trial_begin(self, trial) -> None:
        self.gradients_before_trial = custom_gradient_names()
        self.hypermodel.last_fit_seconds = 0.0
        self.hypermodel.last_metrics = {}
        # Only a trial re-run after a kill has a run dir already: start it afresh so
        # TensorBoard does not show the killed attempt's curves beside the new ones.
        shutil.rmtree(self.tensorboard_dir / str(trial.trial_id), ignore_errors=True)
        super().on_trial_begin(trial)

    def on_trial_end(self, trial) -> None:
        fit_seconds = self.hypermodel.last_fit_seconds
        # Written before the oracle hears of the end, so a finished search has every file.
        write_json(
            Path(self.get_trial_dir(trial.trial_id)) / FIT_FILE,
            {
                "fit_seconds": round(fit_seconds, 4),
                "tuner_id": self.tuner_id,
                "pid": os.getpid(),
                "resident_mb": _resident_megabytes(),
                "status": trial.status,
            },
        )
        if trial.status == "COMPLETED":
            metrics = self.hypermodel.last_metrics
            outcome = " ".join(
                f"{name} {metrics[name]:.4f}"
                for name in ("val_accuracy", "val_loss")
                if name in metrics
            )
        else:
            # keras-tuner keeps the traceback; its last line says what went wrong.
            outcome = f"FAILED: {_last_line(trial.message)}"
        values = " ".join(
            f"{name}={_format_value(value)}"
            for name, value in active_values(trial.hyperparameters).items()
        )
        self.print_fn(
            f"trial {trial.trial_id} of {self.oracle.max_trials}: {outcome} "
            f"({fit_seconds:.1f} s fit) {values}",
            flush=True,
        )
        super().on_trial_end(trial)
        forget_custom_gradients(self.gradients_before_trial)


def make_tuner(
    config: TuneConfig, hypermodel: ConfigHyperModel, print_fn: PrintFunction = print
) -> TfnnRandomSearch:
    """keras-tuner's RandomSearch on the project directory, continuing what is there."""
    project = config.project_path.resolve()
    try:
        tuner = TfnnRandomSearch(
            hypermodel,
            print_fn=print_fn,
            objective=config.objective,
            max_trials=config.trials,
            # keras-tuner reads seed 0 as "no seed" and draws a random one.
            seed=config.seed + 1,
            max_consecutive_failed_trials=config.max_consecutive_failures,
            directory=str(project.parent),
            project_name=project.name,
            # prepare_project has already deleted the directory when asked to.
            overwrite=False,
            # keras-tuner builds and fits each trial's model in the strategy's scope.
            distribution_strategy=(
                tf.distribute.MirroredStrategy() if config.strategy == "mirrored" else None
            ),
        )
        # keras-tuner reloads only when this tuner id's own file exists; a search
        # that another id started (a chief, or tuner0 before a distributed rerun)
        # is the same oracle, so it is reloaded explicitly.
        if not tuner.reloaded and not tuner._is_worker() and (project / "oracle.json").exists():
            tuner.reload()
    except (ValueError, KeyError, RuntimeError) as error:
        raise ConfigError(
            f"--project-dir {str(config.project_dir or project)!r}: cannot continue the "
            f"search there ({type(error).__name__}: {error}); use --overwrite --yes"
        ) from None
    return tuner


def run_trials(tuner: TfnnRandomSearch) -> None:
    """``tuner.search`` with a TensorBoard callback; keras-tuner errors become one line."""
    try:
        with frozen_garbage():
            tuner.search(callbacks=[tensorboard_callback(tuner.tensorboard_dir)], verbose=0)
    except RuntimeError as error:
        if "consecutive failures" not in str(error):
            raise
        raise TfnnError(
            f"search stopped after {tuner.oracle.max_consecutive_failed_trials} failed trials "
            f"in a row (last: {_last_line(str(error))}); narrow the space, or rerun with a higher "
            "--max-consecutive-failures to continue"
        ) from None


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
    return report_best(config, tuner, hypermodel, wall_seconds, ended_before, print_fn)


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


def _read_fit_file(trial_dir: Path) -> dict:
    try:
        return json.loads((trial_dir / FIT_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _metric(trial, name: str) -> float | None:
    if not trial.metrics.exists(name):
        return None
    return float(trial.metrics.get_last_value(name))


def rank_trials(trials: list, objective: str) -> list:
    """Best first by the objective; ties (accuracy on a few hundred samples moves in
    steps of 1/n) go to the better other metric, then the lower trial id, so the
    pick does not depend on the order in which workers finished."""

    def key(trial) -> tuple:
        accuracy = _metric(trial, "val_accuracy")
        loss = _metric(trial, "val_loss")
        accuracy = -math.inf if accuracy is None else accuracy
        loss = math.inf if loss is None else loss
        if objective == "val_loss":
            return (trial.score, -accuracy, trial.trial_id)
        return (-trial.score, loss, trial.trial_id)

    return sorted(trials, key=key)


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


def report_best(
    config: TuneConfig,
    tuner: TfnnRandomSearch,
    hypermodel: ConfigHyperModel,
    wall_seconds: float,
    ended_before: set[str],
    print_fn: PrintFunction = print,
) -> dict:
    """Retrains the best trial's configuration on the whole training split, tests it
    once, and writes ``best.json`` and ``best.md`` into the project directory.

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
    if len(candidates) > 1:
        started = time.perf_counter()
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
        if not cross_validation[0].failed:
            best = trials[cross_validation[0].trial_id]

    ended_now = [
        trial_id
        for trial_id, trial in trials.items()
        if trial.status in ENDED_STATUSES and trial_id not in ended_before
    ]
    fit_seconds = sum(fit_files[trial_id].get("fit_seconds", 0.0) for trial_id in ended_now)
    # With N workers the search has N times the wall time to spend on fitting.
    worker_seconds = wall_seconds * config.workers
    overhead_seconds = worker_seconds - fit_seconds
    resident = [
        fit_files[trial_id]["resident_mb"]
        for trial_id in ended_now
        if fit_files[trial_id].get("resident_mb") is not None
    ]

    best_config = hypermodel.config_from_hp(best.hyperparameters.copy())
    model, history, retrain_seconds = hypermodel.retrain(
        best.hyperparameters.copy(),
        [tensorboard_callback(project / TENSORBOARD_DIR / RETRAINED_RUN)],
    )
    dataset = hypermodel.data.dataset
    # The only time the search touches the test set.
    test_loss, test_accuracy = model.evaluate(
        make_dataset(dataset.x_test, dataset.y_test, EVALUATION_BATCH_SIZE, False, 0), verbose=0
    )
    model.save(project / "best_model.keras")

    def trial_row(trial) -> dict:
        return {
            "trial_id": trial.trial_id,
            "score": trial.score,
            "val_accuracy": _metric(trial, "val_accuracy"),
            "val_loss": _metric(trial, "val_loss"),
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
            "search_wall_seconds": round(wall_seconds, 3),
            "cross_validation_seconds": round(cross_validation_seconds, 3),
            # From the first trial to the chosen configuration (the retrain follows).
            "selection_wall_seconds": round(wall_seconds + cross_validation_seconds, 3),
            "trials_per_minute": round(len(ended_now) / max(wall_seconds, 1e-9) * 60, 3),
            "fit_seconds": round(fit_seconds, 3),
            "overhead_seconds": round(overhead_seconds, 3),
            "overhead_percent": round(100 * overhead_seconds / max(worker_seconds, 1e-9), 2),
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
                "val_accuracy": _metric(trials[result.trial_id], "val_accuracy"),
                "hyperparameters": active_values(trials[result.trial_id].hyperparameters),
            }
            for result in ranking
        ],
    }


def _cell(value) -> str:
    if value is None:
        return ""
    return _format_value(value).replace("|", "\\|")


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
        f"| trials ended | {trials['ended_in_this_run']} (of {trials['total']} in the project) |",
        f"| search wall time | {timing['search_wall_seconds']:.1f} s |",
        f"| trials per minute | {timing['trials_per_minute']:.2f} |",
        f"| sum of trial fit times | {timing['fit_seconds']:.1f} s |",
        f"| keras-tuner overhead (workers x wall - fits) | {timing['overhead_seconds']:.1f} s "
        f"({timing['overhead_percent']:.1f} %) |",
        f"| cross-validation of the top trials | {timing['cross_validation_seconds']:.1f} s |",
        "",
        f"TensorBoard: `{summary['tensorboard']}`",
        "",
    ]
    return "\n".join(lines)
