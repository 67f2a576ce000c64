"""Loss and accuracy curves: per N training steps and per epoch, train and test.

Our own callback instead of ``keras.callbacks.TensorBoard``: Keras' writes a
summary on every batch even with ``update_freq='epoch'`` and silently skips
epoch scalars with some ``update_freq`` values. Here per-step hooks only fire
once per compiled call (``steps_per_execution``), so logging stays off the hot path.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import tensorflow as tf


class RunWriters:
    """The file writers of one run: ``train/`` and ``test/`` sub-runs plus the root.

    TensorBoard overlays sub-runs that share tags, so train and test curves of
    ``epoch_accuracy`` appear in one chart.
    """

    def __init__(self, run_dir: str | os.PathLike):
        self.run_dir = Path(run_dir)
        self._writers: dict[str, tf.summary.SummaryWriter] = {}

    def __getitem__(self, name: str) -> tf.summary.SummaryWriter:
        if name not in self._writers:
            path = self.run_dir if name == "" else self.run_dir / name
            # Events reach the file only on flush() at epoch ends: a run killed
            # mid-epoch leaves no steps that its resumed run would write again.
            self._writers[name] = tf.summary.create_file_writer(
                str(path), max_queue=1_000_000, flush_millis=24 * 3600 * 1000
            )
        return self._writers[name]

    def flush(self) -> None:
        for writer in self._writers.values():
            writer.flush()

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()


def current_learning_rate(optimizer: keras.optimizers.Optimizer) -> float:
    """The learning rate now, evaluating a schedule at the optimizer's iteration."""
    learning_rate = optimizer.learning_rate
    if callable(learning_rate):
        learning_rate = learning_rate(optimizer.iterations)
    return float(keras.ops.convert_to_numpy(learning_rate))


class StepCounter:
    """Turns Keras' per-epoch batch index into a global step and N-step boundaries."""

    def __init__(self, every_steps: int, steps_per_epoch: int, initial_epoch: int = 0):
        self.every_steps = every_steps
        self.steps_per_epoch = steps_per_epoch
        self.epoch = initial_epoch
        self.last_logged_step = initial_epoch * steps_per_epoch

    def batch_index(self, batch: int) -> int:
        """Keras' batch index, clamped: with ``steps_per_execution`` Keras reports the
        last call of an epoch as a full one (batch 49 for a 45-step epoch)."""
        return min(batch, self.steps_per_epoch - 1)

    def global_step(self, batch: int) -> int:
        """Steps finished after batch ``batch`` (0-based, within the current epoch)."""
        return self.epoch * self.steps_per_epoch + self.batch_index(batch) + 1

    def begin_epoch(self, epoch: int) -> bool:
        """Enters ``epoch``; True when it is the first epoch of a resumed run, whose
        earlier steps the interrupted process logged already."""
        resumed = self.last_logged_step == 0 and epoch > 0
        if resumed:
            self.last_logged_step = epoch * self.steps_per_epoch
        self.epoch = epoch
        return resumed

    def crossed_boundary(self, step: int) -> bool:
        """True once per multiple of ``every_steps`` passed since the last log."""
        return step // self.every_steps > self.last_logged_step // self.every_steps


class ScalarLogger(keras.callbacks.Callback):
    """Writes loss/accuracy every N steps (train) and per epoch (train and test).

    Step scalars are the mean over the steps since the previous point,
    recovered from Keras' running epoch means, so the curve shows the loss
    at that point of training rather than an epoch-long average.

    Args:
        writers: The run's writers.
        every_steps: Write step scalars when a multiple of this many steps is passed.
        steps_per_epoch: Training steps in one epoch.
        initial_epoch: Epoch training starts from (non-zero when resuming).
        monitor_name: Sub-run for Keras' ``val_*`` metrics: ``test`` or ``validation``.
    """

    def __init__(
        self,
        writers: RunWriters,
        every_steps: int,
        steps_per_epoch: int,
        initial_epoch: int = 0,
        monitor_name: str = "test",
    ):
        super().__init__()
        self.writers = writers
        self.monitor_name = monitor_name
        self.counter = StepCounter(every_steps, steps_per_epoch, initial_epoch)
        self._previous_batch = -1
        self._previous_means: dict[str, float] = {}

    def on_epoch_begin(self, epoch, logs=None):
        self.counter.begin_epoch(epoch)
        self._previous_batch = -1
        self._previous_means = {}

    def on_train_batch_end(self, batch, logs=None):
        step = self.counter.global_step(batch)
        if not logs or not self.counter.crossed_boundary(step):
            return
        batch = self.counter.batch_index(batch)
        window = batch - self._previous_batch
        means = {name: float(value) for name, value in logs.items()}
        with self.writers["train"].as_default(step=step):
            for name, mean in means.items():
                earlier = self._previous_means.get(name, 0.0) * (self._previous_batch + 1)
                tf.summary.scalar(f"step_{name}", (mean * (batch + 1) - earlier) / window)
        self.counter.last_logged_step = step
        self._previous_batch = batch
        self._previous_means = means

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        step = epoch + 1
        with self.writers["train"].as_default(step=step):
            for name, value in logs.items():
                if not name.startswith("val_"):
                    tf.summary.scalar(f"epoch_{name}", float(value))
            tf.summary.scalar("learning_rate", current_learning_rate(self.model.optimizer))
        with self.writers[self.monitor_name].as_default(step=step):
            for name, value in logs.items():
                if name.startswith("val_"):
                    tf.summary.scalar(f"epoch_{name[4:]}", float(value))
        self.writers.flush()
