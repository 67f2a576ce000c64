"""Run directories: ``<logdir>/<experiment>/<MMDD-HHMM>-<settings>``, never reused."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tfnn.errors import ConfigError


def check_log_root(logdir: str | os.PathLike) -> Path:
    """Creates the log root if needed; ConfigError if it is a file or not writable."""
    root = Path(logdir)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{{logdir}} {str(root)!r} is a file: give a directory")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"{{logdir}} {str(root)!r} cannot be created: {error.strerror}") from None
    if not os.access(root, os.W_OK | os.X_OK):
        raise ConfigError(f"{{logdir}} {str(root)!r} is not writable: choose another directory")
    return root


def create_run_dir(logdir: str | os.PathLike, experiment: str, settings: str) -> Path:
    """Makes a new, empty run directory and returns it.

    ``mkdir`` without ``exist_ok`` is atomic, so two runs started in the same
    second (even in two processes) get ``...-settings`` and ``...-settings-2``.
    """
    parent = check_log_root(logdir) / experiment
    parent.mkdir(parents=True, exist_ok=True)
    stem = f"{time.strftime('%m%d-%H%M')}-{settings}"
    for attempt in range(1, 1000):
        run_dir = parent / (stem if attempt == 1 else f"{stem}-{attempt}")
        try:
            run_dir.mkdir()
        except FileExistsError:
            continue
        except OSError as error:
            raise ConfigError(
                f"{{logdir}} {str(logdir)!r}: cannot create {run_dir}: {error.strerror}"
            ) from None
        return run_dir
    raise ConfigError(f"{{logdir}} {str(logdir)!r}: too many runs named {stem}")
