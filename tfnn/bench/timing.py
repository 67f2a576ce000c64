"""Epoch wall times, measured from one epoch's start to its end (callbacks included)."""

from __future__ import annotations

import time

import keras


class EpochTimes(keras.callbacks.Callback):
    """Records each epoch's wall time; last in a callback list, it includes the others'."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)
