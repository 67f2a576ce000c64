"""Loss and accuracy curves: every N training steps, and per epoch for train and validation.

Our own callback instead of ``keras.callbacks.TensorBoard``: Keras' writes a summary
on every batch even with ``update_freq='epoch'``. Here per-step hooks fire once per
compiled call (``steps_per_execution``), so logging stays off the hot path.
"""

from __future__ import annotations

import os
import time

import keras

from tfnn.tensorboard.writers import RunWriters, WritingCallback

TRAIN_RUN = "train"
LEARNING_RATE_TAG = "learning_rate"
# Wall seconds of each epoch (training steps and the callbacks before this one).
SECONDS_TAG = "epoch_seconds"


def scalar_value(value) -> float:
    """A variable's or tensor's value as a Python number (``.numpy()`` where it has one:
    half the cost of ``keras.ops.convert_to_numpy``, read at every epoch's end)."""
    return float(value.numpy() if hasattr(value, "numpy") else keras.ops.convert_to_numpy(value))


def global_step(model: keras.Model) -> int:
    """Training steps the model's optimizer has taken (restored with it on resume)."""
    return int(scalar_value(model.optimizer.iterations))


def step_after_batch(epoch_start: int, batch: int, params: dict) -> int:
    """The optimizer's step after ``batch`` of an epoch that began at ``epoch_start``,
    without reading the variable (a device sync on every batch otherwise).

    With ``steps_per_execution``, Keras reports an epoch's last call as a full one
    (batch 49 of a 45-step epoch).
    """
    steps = params.get("steps")
    return epoch_start + (min(batch, steps - 1) if steps else batch) + 1


def current_learning_rate(optimizer: keras.optimizers.Optimizer) -> float:
    """The learning rate now, evaluating a schedule at the optimizer's iteration."""
    learning_rate = optimizer.learning_rate
    if callable(learning_rate):
        learning_rate = learning_rate(optimizer.iterations)
    return scalar_value(learning_rate)


def epoch_tag(metric: str) -> str:
    """The tag of an epoch curve: ``epoch_loss``, ``epoch_accuracy`` (as Keras names them)."""
    return f"epoch_{metric}"


def is_validation(name: str) -> bool:
    """Keras names the validation metrics ``val_loss``, ``val_accuracy``."""
    return name.startswith("val_")


def step_tag(metric: str) -> str:
    return f"step_{metric}"


class ScalarLogger(WritingCallback, keras.callbacks.Callback):
    """Writes loss and metrics every N steps (``train``) and per epoch (``train`` and,
    for Keras' ``val_*`` logs, ``validation_name``), plus the learning rate and the
    epoch's wall seconds (``epoch_seconds``).

    Step scalars are the mean over the steps since the previous point, recovered from
    Keras' running epoch means, so the curve shows the loss at that point of training
    rather than an epoch-long average. Steps are the optimizer's iterations, so a
    resumed run continues its curves where they stopped.

    Args:
        log_dir: The run's log directory (or its shared writers).
        every_steps: Write step scalars when a multiple of this many steps is passed
            (0: epoch scalars only).
        validation_name: Sub-run for the ``val_*`` metrics: ``validation`` or ``test``.
        flush_every_epoch: Flush the event files at every epoch's end, so a killed run
            keeps its curves up to its last finished epoch (a tuner trial, which is
            re-run from scratch, writes them when it ends).
    """

    def __init__(
        self,
        log_dir: str | os.PathLike | RunWriters,
        every_steps: int = 100,
        validation_name: str = "validation",
        flush_every_epoch: bool = True,
    ):
        super().__init__()
        self.writers = RunWriters.of(log_dir)
        self.every_steps = every_steps
        self.validation_name = validation_name
        self.flush_every_epoch = flush_every_epoch
        self._last_logged: int | None = None
        self._previous_batch = -1
        self._previous_means: dict[str, float] = {}

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._last_logged = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_started = time.perf_counter()
        if self.every_steps <= 0:
            return  # epoch points only: their step is the epoch
        if self._last_logged is None:
            # Read here, not at train begin: a backup callback restores the optimizer's
            # iterations in its own on_train_begin, which may come after this one.
            self._last_logged = global_step(self.model)
        self._epoch_start = global_step(self.model)
        self._previous_batch = -1
        self._previous_means = {}

    def on_train_batch_end(self, batch, logs=None):
        if self.every_steps <= 0 or not logs:
            return
        step = step_after_batch(self._epoch_start, batch, self.params)
        if step // self.every_steps <= self._last_logged // self.every_steps:
            return
        steps = self.params.get("steps")
        batch = min(batch, steps - 1) if steps else batch
        window = max(1, batch - self._previous_batch)
        means = {name: float(value) for name, value in logs.items()}
        window_means = {}
        for name, mean in means.items():
            earlier = self._previous_means.get(name, 0.0) * (self._previous_batch + 1)
            window_means[step_tag(name)] = (mean * (batch + 1) - earlier) / window
        self.writers.write_scalars(TRAIN_RUN, step, window_means)
        self._last_logged = step
        self._previous_batch = batch
        self._previous_means = means

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        step = epoch + 1
        train = {
            epoch_tag(name): value
            for name, value in logs.items()
            if not is_validation(name) and name != LEARNING_RATE_TAG
        }
        # Keras' learning-rate callbacks put the rate in the logs, and a packed trial's
        # trainer does (its model's optimizer never steps); else it is read.
        rate = logs.get(LEARNING_RATE_TAG)
        train[LEARNING_RATE_TAG] = (
            float(rate) if rate is not None else current_learning_rate(self.model.optimizer)
        )
        train[SECONDS_TAG] = time.perf_counter() - self._epoch_started
        self.writers.write_scalars(TRAIN_RUN, step, train)
        validation = {
            epoch_tag(name[4:]): value for name, value in logs.items() if is_validation(name)
        }
        if validation:
            self.writers.write_scalars(self.validation_name, step, validation)
        if self.flush_every_epoch:
            self.writers.flush()
