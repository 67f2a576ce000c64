"""Small training callbacks: epoch timing, progress lines, NaN and Ctrl-C stops."""

from __future__ import annotations

import math
import time

import keras

from tfnn import interrupts


class EpochTimer(keras.callbacks.Callback):
    """Records the wall time of each epoch, from the previous epoch's end (the start of
    training for the first) to this one's: training, validation, and the end-of-epoch
    work of every callback before this one in the list (figures, statistics). Put it
    after those; what comes after it (the progress line, results.json, the backup) is
    counted in the next epoch."""

    def __init__(self, earlier: list[float] | None = None):
        super().__init__()
        # A resumed run starts with the epoch times of the epochs it skips.
        self.epoch_times: list[float] = list(earlier or [])
        self._last_end = 0.0

    def on_train_begin(self, logs=None):
        self._last_end = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        self.epoch_times.append(now - self._last_end)
        self._last_end = now


class ProgressPrinter(keras.callbacks.Callback):
    """One short line per epoch, instead of Keras' progress bars (which flood logs)."""

    def __init__(self, epochs: int, timer: EpochTimer, print_fn=print, monitor_name: str = "test"):
        super().__init__()
        self.epochs = epochs
        self.monitor_name = monitor_name
        self.timer = timer
        self.print_fn = print_fn

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        parts = [f"epoch {epoch + 1:>3}/{self.epochs}"]
        for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
            if name in logs:
                label = name.replace("val_", f"{self.monitor_name}_")
                parts.append(f"{label} {float(logs[name]):.4f}")
        if self.timer.epoch_times:
            parts.append(f"{self.timer.epoch_times[-1]:.2f}s")
        self.print_fn("  ".join(parts), flush=True)


class StopOnNaN(keras.callbacks.TerminateOnNaN):
    """Keras' TerminateOnNaN that also remembers where the loss went bad."""

    def __init__(self):
        super().__init__()
        self.bad_epoch: int | None = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)) and self.bad_epoch is None:
            self.bad_epoch = self._epoch + 1
        super().on_batch_end(batch, logs)


class StopOnInterrupt(keras.callbacks.Callback):
    """Raises ``KeyboardInterrupt`` at the next compiled call's or epoch's end once
    SIGINT has arrived, in case the handler's own exception was dropped."""

    def _check(self) -> None:
        if interrupts.requested():
            raise KeyboardInterrupt

    def on_train_batch_end(self, batch, logs=None):
        self._check()

    def on_epoch_end(self, epoch, logs=None):
        self._check()
