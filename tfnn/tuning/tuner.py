"""The Tuner: keras-tuner's RandomSearch with one line and a fit-time file per trial.

What a trial costs besides its fit (measured on a 20-trial digits search, one trial
at a time): keras-tuner's ``_try_build`` runs two full
garbage collections per trial (``clear_session`` and its own ``gc.collect``),
~0.5 s each with TensorFlow's ~400,000 objects alive, so the search freezes
those objects once (``gc.freeze``); and ``Tuner.run_trial`` saves the weights
after every epoch that improves the objective (~50 ms an h5 file, ~10 per
trial) for ``get_best_models``, which tfnn never calls: it retrains the best
configuration instead, so trials keep no weights.
"""

from __future__ import annotations

import copy
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
from keras_tuner.src.distribute import utils as dist_utils

from tfnn.configs.tune import TuneConfig
from tfnn.errors import ConfigError, TfnnError
from tfnn.results import write_json
from tfnn.tuning import keras_tuner_patches  # noqa: F401  (patches keras-tuner on import)
from tfnn.tuning.hypermodels import ConfigHyperModel
from tfnn.tuning.lanes import search_lanes
from tfnn.tuning.packed_trials import PackedSearch, print_progress
from tfnn.tuning.report import active_values, format_value
from tfnn.tuning.trial_logs import trial_callbacks, trial_run
from tfnn.tuning.trial_memory import (
    custom_gradient_names,
    forget_custom_gradients,
    frozen_garbage,
)

TENSORBOARD_DIR = "tensorboard"
FIT_FILE = "fit.json"
ENDED_STATUSES = ("COMPLETED", "FAILED")

PrintFunction = Callable[..., None]
WINDOW_PACKS = 4


def _resident_megabytes() -> float | None:
    """This process's resident memory (Linux), to show it stays flat across trials."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def last_line(text: str | None) -> str:
    """A traceback's last line without the exception's class name."""
    lines = (text or "").strip().splitlines()
    if not lines:
        return "no message"
    return re.sub(r"^[\w.]+(Error|Exception): ", "", lines[-1])


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
        tuner does not use; and tfnn's own TensorBoard run per trial
        (:func:`trial_callbacks`) instead of keras-tuner's Keras TensorBoard. The
        rest is keras-tuner's: callbacks deep-copied per execution,
        ``_build_and_fit_model``.
        """
        original_callbacks = kwargs.pop("callbacks", [])
        histories = []
        for _ in range(self.executions_per_trial):
            copied_kwargs = copy.copy(kwargs)
            callbacks = self._deepcopy_callbacks(original_callbacks)
            copied_kwargs["callbacks"] = [*callbacks, *self.trial_callbacks(trial)]
            histories.append(self._build_and_fit_model(trial, *args, **copied_kwargs))
        return histories

    def trial_callbacks(self, trial) -> list[keras.callbacks.Callback]:
        """The trial's TensorBoard run: `tfnn train`'s curves and HParams names."""
        return trial_callbacks(
            self.tensorboard_dir / trial_run(trial.trial_id),
            self.hypermodel.config_from_hp(trial.hyperparameters),
            trial.trial_id,
            self.hypermodel.tune_config.objective,
            self.hypermodel.searched,
        )

    def search(self, *args, **kwargs) -> None:
        """keras-tuner's search, in packs of trials unless ``--pack 1`` (or the chief
        of a distributed search, which only serves the oracle)."""
        config = self.hypermodel.tune_config
        pack = config.pack_size
        if pack <= 1 or dist_utils.is_chief_oracle():
            self.last_pack_size = 1
            # One trial at a time: the progress line follows every trial's own line.
            self.solo_progress = {"started": time.perf_counter(), "done": 0}
            return super().search(*args, **kwargs)
        # Trials drawn at once: four packs' worth per batch size, shared among the
        # workers (a 160-trial digits search is one window of five queues); never more
        # than a worker's share, so a small search keeps every worker busy.
        window = min(
            WINDOW_PACKS * pack * len(self.hypermodel.batch_sizes),
            math.ceil(config.trials / config.workers),
        )
        if "verbose" in kwargs:  # as keras-tuner's search: trials print their own line
            self.oracle.verbose = kwargs["verbose"]
        self.on_search_begin()
        lanes = search_lanes(config)
        PackedSearch(self, pack, window, self.print_fn, lanes).run(kwargs.get("callbacks", []))
        self.on_search_end()
        return None

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
        shutil.rmtree(self.tensorboard_dir / trial_run(trial.trial_id), ignore_errors=True)
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
                "pack_size": getattr(self, "last_pack_size", 1),
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
            outcome = f"FAILED: {last_line(trial.message)}"
        values = " ".join(
            f"{name}={format_value(value)}"
            for name, value in active_values(trial.hyperparameters).items()
        )
        self.print_fn(
            f"trial {trial.trial_id} of {self.oracle.max_trials}: {outcome} "
            f"({fit_seconds:.1f} s fit) {values}",
            flush=True,
        )
        super().on_trial_end(trial)
        forget_custom_gradients(self.gradients_before_trial)
        progress = getattr(self, "solo_progress", None)
        if progress is not None:
            progress["done"] += 1
            print_progress(self.oracle, progress["done"], progress["started"], self.print_fn)


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
            f"{{project_dir}} {str(config.project_dir or project)!r}: cannot continue the "
            f"search there ({type(error).__name__}: {error}); use {{overwrite}} {{yes}}"
        ) from None
    return tuner


def run_trials(tuner: TfnnRandomSearch) -> None:
    """``tuner.search`` (each trial writes its own TensorBoard run); keras-tuner errors
    become one line."""
    try:
        with frozen_garbage():
            tuner.search(verbose=0)
    except RuntimeError as error:
        if "consecutive failures" not in str(error):
            raise
        raise TfnnError(
            f"search stopped after {tuner.oracle.max_consecutive_failed_trials} failed trials "
            f"in a row (last: {last_line(str(error))}); narrow the space, or rerun with a higher "
            "{max_consecutive_failures} to continue"
        ) from None
