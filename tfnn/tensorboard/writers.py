"""The summary writers of one log directory, shared by the callbacks that write into it."""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Iterator
from pathlib import Path

import tensorflow as tf

# One instance per log directory while any callback holds it: each sub-run then has one
# event file, whichever callbacks write into it.
_OPEN: weakref.WeakValueDictionary[Path, RunWriters] = weakref.WeakValueDictionary()


class RunWriters:
    """The file writers of one log directory: its sub-runs (``train``, ``validation``,
    ``test``) and its root (``""``: HParams, text, figures).

    TensorBoard overlays sub-runs that share a tag, so ``train`` and ``test`` curves of
    ``epoch_accuracy`` appear in one chart. Events reach the files only on
    :meth:`flush` (the callbacks flush at epoch ends): a run killed mid-epoch leaves no
    steps that its resumed run would write again.

    Callbacks call :meth:`hold` when training begins and :meth:`release` when it ends;
    the writers close when the last holder releases them.
    """

    def __init__(self, log_dir: str | os.PathLike):
        self.log_dir = Path(log_dir)
        self._writers: dict[str, tf.summary.SummaryWriter] = {}
        self._holders = 0

    @classmethod
    def of(cls, log_dir: str | os.PathLike | RunWriters) -> RunWriters:
        """The writers of ``log_dir`` (the same instance for every caller while held)."""
        if isinstance(log_dir, RunWriters):
            return log_dir
        key = Path(log_dir).resolve()
        writers = _OPEN.get(key)
        if writers is None:
            writers = _OPEN[key] = cls(key)
        return writers

    def __getitem__(self, name: str) -> tf.summary.SummaryWriter:
        if name not in self._writers:
            path = self.log_dir if name == "" else self.log_dir / name
            self._writers[name] = tf.summary.create_file_writer(
                str(path), max_queue=1_000_000, flush_millis=24 * 3600 * 1000
            )
        return self._writers[name]

    def hold(self) -> None:
        self._holders += 1

    def release(self) -> None:
        """Closes the writers once nobody holds them (pending events are written)."""
        self._holders = max(0, self._holders - 1)
        if self._holders == 0:
            self.close()

    def flush(self) -> None:
        for writer in self._writers.values():
            writer.flush()

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()


class WritingCallback:
    """Mixin: holds the log directory's writers from train begin to train end."""

    writers: RunWriters

    def on_train_begin(self, logs=None):
        self.writers.hold()

    def on_train_end(self, logs=None):
        self.writers.flush()
        self.writers.release()


@contextlib.contextmanager
def writing_into(log_dir: str | os.PathLike | RunWriters, run: str = "") -> Iterator[None]:
    """Makes sub-run ``run`` of ``log_dir`` (``""``: its root) the default summary writer:
    the callbacks' shared writer while they hold it (one event file per sub-run), else
    a writer of its own, flushed and closed on exit."""
    writers = RunWriters.of(log_dir)
    with writers[run].as_default():
        yield
    writers.flush()
    if writers._holders == 0:
        writers.close()
