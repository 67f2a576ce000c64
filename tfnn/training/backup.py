"""The training state saved at every epoch's end, from which a killed run resumes."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import keras
import numpy as np

from tfnn.errors import TfnnError
from tfnn.files import replaced_whole

BACKUP_DIR = "backup"
STATE_FILE = "state.npz"
LEGACY_METADATA_FILE = "training_metadata.json"


def state_path(run_dir: str | os.PathLike) -> Path:
    """The backup file of the run in ``run_dir``."""
    return Path(run_dir) / BACKUP_DIR / STATE_FILE


def backed_up_epoch(run_dir: str | os.PathLike) -> int:
    """Epochs the run in ``run_dir`` finished before it was interrupted (0 for a new run)."""
    path = state_path(run_dir)
    if not path.exists():
        return _keras_backup_epoch(path.parent)
    try:
        with np.load(path) as saved:
            return int(saved["epoch"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise TfnnError(f"cannot read the backup {path}: {error}") from error


def _keras_backup_epoch(backup_dir: Path) -> int:
    # Runs interrupted before tfnn kept its own file have Keras' BackupAndRestore files.
    metadata = backup_dir / LEGACY_METADATA_FILE
    if not metadata.exists():
        return 0
    try:
        return int(json.loads(metadata.read_text())["epoch"])
    except (OSError, ValueError, KeyError) as error:
        raise TfnnError(f"cannot read the backup {metadata}: {error}") from error


class EpochBackup(keras.callbacks.BackupAndRestore):
    """Keras' ``BackupAndRestore`` (restore at the start, a backup at every epoch's end,
    deleted when training ends), keeping the state in one ``.npz``: every variable of
    the model (seed generators' too) and of the optimizer, and the epoch count.

    Keras' ``save_weights`` walks the model's object graph in Python, ~20 ms a save
    whatever the model's size: most of a 30 ms digits epoch. This takes a few ms.
    The file is written beside the old one and renamed over it, so a kill or a full
    disk mid-write leaves the previous epoch's backup whole.

    Args:
        run_dir: The run directory; the backup goes in its ``backup/`` folder.
    """

    def __init__(self, run_dir: str | os.PathLike):
        self.path = state_path(run_dir)
        super().__init__(str(self.path.parent), save_freq="epoch", delete_checkpoint=True)

    def _variables(self) -> list[keras.Variable]:
        return [*self.model.variables, *self.model.optimizer.variables]

    def on_train_begin(self, logs=None):
        if not self.path.exists():
            super().on_train_begin(logs)  # Keras' own files, if an older tfnn wrote them
            return
        if not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        variables = self._variables()
        with np.load(self.path) as saved:
            # By position, as Keras' own weight files: names carry process-wide counters
            # (dense_3), so a resumed process may name the same layers differently.
            values = [saved[f"v{index}"] for index in range(len(saved.files) - 1)]
            if [value.shape for value in values] != [tuple(v.shape) for v in variables]:
                raise TfnnError(f"the backup {self.path} holds another model's state")
            for variable, value in zip(variables, values, strict=True):
                variable.assign(value)
            # Where Keras' fit (and tfnn's multi-worker loop) start counting epochs.
            self.model._initial_epoch = int(saved["epoch"])

    def _save_model(self):
        variables = self._variables()
        values = {f"v{i}": keras.ops.convert_to_numpy(v.value) for i, v in enumerate(variables)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with replaced_whole(self.path) as file:
            np.savez(file, epoch=self._current_epoch, **values)
