"""What an experiment is: its config, data, model and what to embed; one generic run."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from tfnn.configs.common import TrainConfig
from tfnn.data.dataset import Dataset
from tfnn.distribute.cluster import non_chief_run_dir
from tfnn.errors import ConfigError, LogWriteError, write_failure
from tfnn.results import read_results, write_results
from tfnn.rundir import create_run_dir
from tfnn.training.runner import train_classifier


@dataclasses.dataclass(frozen=True)
class Experiment:
    """The parts that differ between `tfnn train ...` experiments.

    Attributes:
        load_data: Config -> Dataset (train/test arrays).
        build_model: (config, dataset) -> uncompiled Keras model.
        embedding_layer: Layer whose test-set activations go to the Projector, or None.
        extra_callbacks: (config, dataset, run_dir) -> the experiment's own Keras
            callbacks (e.g. decision-boundary images), or None.
    """

    load_data: Callable[[TrainConfig], Dataset]
    build_model: Callable[[TrainConfig, Dataset], keras.Model]
    embedding_layer: str | None = None
    extra_callbacks: (
        Callable[[TrainConfig, Dataset, Path], list[keras.callbacks.Callback]] | None
    ) = None


def carve_validation(
    dataset: Dataset, samples: int, seed: int
) -> tuple[Dataset, tuple[np.ndarray, np.ndarray] | None]:
    """Moves ``samples`` seeded-random training samples into a validation set."""
    if samples <= 0:
        return dataset, None
    if samples >= len(dataset.x_train):
        raise ConfigError(
            f"{{validation_samples}} {samples} is not allowed: must be smaller than the "
            f"{len(dataset.x_train)} training samples"
        )
    order = np.random.default_rng(seed).permutation(len(dataset.x_train))
    keep, held_out = order[samples:], order[:samples]
    train = dataclasses.replace(
        dataset, x_train=dataset.x_train[keep], y_train=dataset.y_train[keep]
    )
    return train, (dataset.x_train[held_out], dataset.y_train[held_out])


def run_experiment(
    experiment: Experiment,
    config: TrainConfig,
    print_fn=print,
    resume_dir: Path | None = None,
    command: str | None = None,
) -> dict:
    """Loads data, makes a fresh run directory and trains; returns ``results.json``'s content.

    With ``resume_dir`` (a run that was interrupted), training continues there
    from its last finished epoch instead. ``command`` is what started the run, for
    the record (default: this process's command line).
    """
    dataset = experiment.load_data(config)
    dataset, validation = carve_validation(
        dataset, getattr(config, "validation_samples", 0), config.seed
    )
    # The directory is made after the data loads, so bad data leaves no empty run behind.
    # Multi-worker runs: only the chief writes there; the others get a temporary one.
    run_dir = (
        non_chief_run_dir(config.strategy)
        or resume_dir
        or create_run_dir(config.logdir, config.experiment, config.short_name())
    )
    try:
        return train_classifier(
            config,
            dataset,
            lambda: experiment.build_model(config, dataset),
            run_dir,
            validation=validation,
            embedding_layer=experiment.embedding_layer,
            extra_callbacks=(
                experiment.extra_callbacks(config, dataset, run_dir)
                if experiment.extra_callbacks
                else ()
            ),
            print_fn=print_fn,
            command=command,
        )
    except Exception as error:
        reason = write_failure(error)
        if reason is None:
            raise
    # Out of the except block, so the failed writers (half-written HDF5 files) are
    # released now, while their libraries are loaded, not at interpreter exit.
    gc.collect()
    mark_failed(run_dir, f"log write failed: {reason}")
    raise LogWriteError(
        f"cannot write the run's logs in {run_dir}: {reason}. The run stopped; free "
        "space or choose another {logdir} (other runs' directories are untouched)"
    )


def mark_failed(run_dir: Path, reason: str) -> None:
    """Records in ``results.json`` why the run stopped, if the disk still takes it."""
    try:
        results = read_results(run_dir)
        write_results(run_dir, {**results, "status": "failed", "failure": reason})
    except (OSError, ValueError):
        pass  # the disk is what failed: nothing more can be recorded
