"""A search's TensorBoard runs, written as `tfnn train` writes its own.

Every trial gets tfnn's epoch curves (``ScalarLogger``: ``epoch_loss`` and
``epoch_accuracy`` of ``train`` and ``validation``, ``learning_rate``) and an HParams
session with the values and names `tfnn train` logs for the same config
(``config.hparams()``, declared as ``TFNN_HPARAMS``; the searched ones), so a trial and
its re-run with `tfnn train` line up in one TensorBoard. Runs are ``trial-<id>`` (keras-tuner's
``<id>/execution0`` nests them a level deeper and says nothing). The search declares
its objective as the first metric: TensorBoard colours the parallel coordinates by
the first one. The retrained best configuration is the run ``best-retrained`` with
its ``train`` curves and its one ``test`` point; it has no HParams session, as it has
no validation score to draw beside the trials'.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import keras
from tensorboard.plugins.hparams import api as hp

from tfnn.configs.common import TrainConfig
from tfnn.tensorboard.hparams import TFNN_HPARAMS, HParams, epoch_metric, write_final_metrics
from tfnn.tensorboard.scalars import TRAIN_RUN, ScalarLogger
from tfnn.tensorboard.writers import RunWriters

RETRAINED_RUN = "best-retrained"
VALIDATION_RUN = "validation"


def trial_run(trial_id: str) -> str:
    """The trial's run name in the search's TensorBoard (``trial-007``)."""
    return f"trial-{trial_id}"


def search_metrics(objective: str) -> list[hp.Metric]:
    """Validation accuracy and loss, the objective first, then train accuracy and loss."""
    validation = [epoch_metric(VALIDATION_RUN, name) for name in ("accuracy", "loss")]
    if objective.removeprefix("val_") == "loss":
        validation.reverse()
    return [*validation, *(epoch_metric(TRAIN_RUN, name) for name in ("accuracy", "loss"))]


def trial_callbacks(
    log_dir: str | Path,
    config: TrainConfig,
    trial_id: str,
    objective: str,
    searched: Collection[str],
) -> list[keras.callbacks.Callback]:
    """A trial's epoch curves and HParams session, under the names `tfnn train` uses.

    The session holds the ``searched`` hyperparameters only: TensorBoard shows the first
    five columns by name, which would otherwise be settings every trial shares (a
    digits search's ``arch`` and ``dropout``); the Text tab has them all.
    """
    writers = RunWriters.of(log_dir)
    values = {name: value for name, value in config.hparams().items() if name in searched}
    return [
        # A killed trial is re-run from scratch: its events need no flush before its end.
        ScalarLogger(writers, 0, VALIDATION_RUN, flush_every_epoch=False),
        HParams(
            writers,
            values,
            [param for param in TFNN_HPARAMS if param.name in values],
            search_metrics(objective),
            trial_id=trial_run(trial_id),
            settings={"trial": trial_id, **config.to_dict()},
        ),
    ]


def retrained_callbacks(log_dir: str | Path) -> list[keras.callbacks.Callback]:
    """The retrained best configuration's epoch curves."""
    return [ScalarLogger(log_dir, every_steps=0)]


def write_test_point(log_dir: str | Path, loss: float, accuracy: float, epochs: int) -> None:
    """The retrained model's test numbers, one point at its last epoch (``test`` sub-run)."""
    writers = RunWriters.of(log_dir)
    write_final_metrics(writers, {"test_loss": loss, "test_accuracy": accuracy}, step=epochs)
    writers.close()
