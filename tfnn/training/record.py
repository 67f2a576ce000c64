"""``results.json`` of one run, kept current: at the start, after every epoch, at the end."""

from __future__ import annotations

import time
from pathlib import Path

import keras

from tfnn.results import library_versions, read_results, write_results
from tfnn.training.callbacks import EpochTimer


class RunRecord:
    """What a run has measured so far, written to ``run_dir/results.json`` at every change.

    A resumed run starts from the interrupted run's record: its command, its epoch
    times for the epochs it will not train again, and the epochs it resumed at.

    Args:
        run_dir: The run directory.
        content: The record's fields.
        timer: The run's epoch timer (the times of the epochs before a resume included).
    """

    def __init__(self, run_dir: Path, content: dict, timer: EpochTimer):
        self.run_dir = run_dir
        self.content = content
        self.timer = timer
        self._started = time.perf_counter()

    @classmethod
    def start(cls, run_dir: Path, first_epoch: int, command: str, **facts) -> RunRecord:
        """A new record (or the interrupted run's, continued from ``first_epoch``)."""
        previous = read_results(run_dir) if first_epoch else {}
        content = {
            **facts,
            "run_dir": str(run_dir),
            "command": previous.get("command", command),
            "versions": library_versions(),
            "resumed_at_epochs": previous.get("resumed_at_epochs", [])
            + ([first_epoch] if first_epoch else []),
            "status": "running",
        }
        record = cls(run_dir, content, EpochTimer(previous.get("epoch_times_s", [])[:first_epoch]))
        record.write()
        return record

    def write(self, **values) -> None:
        """Updates ``values`` and rewrites the file (atomically)."""
        self.content.update(values)
        write_results(self.run_dir, self.content)

    def epochs_done(self) -> dict:
        """The epoch count and times so far, as recorded."""
        times = self.timer.epoch_times
        return {
            "epochs_completed": len(times),
            "epoch_times_s": [round(t, 4) for t in times],
            "train_time_s": round(sum(times), 3),
        }

    def wall_time(self) -> dict:
        return {"wall_time_s": round(time.perf_counter() - self._started, 3)}

    def finish(self, metrics: dict[str, float], samples_per_epoch: int) -> dict:
        """Records the final metrics and speed; returns the whole record."""
        done = self.epochs_done()
        self.write(
            **done,
            status="finished",
            metrics=metrics,
            train_samples_per_second=round(
                samples_per_epoch * done["epochs_completed"] / max(done["train_time_s"], 1e-9),
                1,
            ),
            **self.wall_time(),
        )
        return self.content

    @property
    def epoch_writer(self) -> keras.callbacks.Callback:
        """The callback that rewrites the file after every epoch (put it after the timer)."""
        return _RecordEpochs(self)


class _RecordEpochs(keras.callbacks.Callback):
    """Rewrites ``results.json`` after each epoch, so a killed run shows how far it got."""

    def __init__(self, record: RunRecord):
        super().__init__()
        self.record = record

    def on_epoch_end(self, epoch, logs=None):
        done = self.record.epochs_done()
        self.record.write(epochs_completed=epoch + 1, epoch_times_s=done["epoch_times_s"])
