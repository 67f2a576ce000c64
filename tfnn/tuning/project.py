"""A search's project directory: checked, created or continued before TensorFlow loads.

Kept apart from the config (plain data): this is where a ``TuneConfig`` touches files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tfnn.configs.tune import TUNE_CONFIG_FILE, TuneConfig
from tfnn.errors import ConfigError


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and not any(path.iterdir())


def prepare_project(config: TuneConfig) -> bool:
    """Checks and creates the project directory before TensorFlow loads.

    A directory holding a search is continued (``--resume`` insists on one);
    ``--overwrite`` deletes it, which needs ``--yes`` unless it is empty. The
    settings are written to ``tune.json`` so the next run can check it continues
    the same search.

    Returns:
        True when an earlier search is continued.

    Raises:
        ConfigError: The directory is a file, not writable, holds something
            else, holds a search with other settings, or would be deleted
            without ``--yes``.
    """
    project = config.project_path
    flag = f"{{project_dir}} {str(project)!r}"
    if project.exists() and not project.is_dir():
        raise ConfigError(f"{flag} is a file: give a directory")
    if config.overwrite and project.exists() and not _is_empty_dir(project):
        if not config.yes:
            raise ConfigError(
                f"{flag} is not empty: {{overwrite}} deletes it, add {{yes}} to confirm "
                "(or drop {overwrite} to continue that search)"
            )
        import shutil

        shutil.rmtree(project)
    saved_file = project / TUNE_CONFIG_FILE
    resuming = saved_file.is_file()
    if config.resume and not resuming:
        raise ConfigError(
            f"{{resume}}: {flag} holds no search to continue ({saved_file} is missing)"
        )
    if not resuming and project.exists() and not _is_empty_dir(project):
        raise ConfigError(
            f"{flag} holds files but no {TUNE_CONFIG_FILE}: not a tfnn search; "
            "choose another directory or add {overwrite} {yes}"
        )
    if resuming:
        try:
            saved = TuneConfig.from_dict(json.loads(saved_file.read_text()))
        except (ValueError, TypeError, ConfigError) as error:
            raise ConfigError(f"{saved_file} is unreadable ({error}); use {{overwrite}}") from None
        differences = [
            f"{{{name}}} {value!r} (now {getattr(config, name)!r})"
            for name, value in saved.search_settings().items()
            if getattr(config, name) != value
        ]
        if differences:
            raise ConfigError(
                f"{flag} holds a search with " + ", ".join(differences) + ": rerun with "
                "those settings to continue it, or use another {project_dir} or {overwrite}"
            )
        return True
    try:
        project.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"{flag} cannot be created: {error.strerror}") from None
    if not os.access(project, os.W_OK | os.X_OK):
        raise ConfigError(f"{flag} is not writable: choose another directory")
    saved_file.write_text(json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n")
    return False


def ended_trial_ids(project: Path) -> set[str]:
    """Ids of the trials keras-tuner has recorded as COMPLETED or FAILED in ``project``."""
    ended = set()
    for trial_file in project.glob("trial_*/trial.json"):
        try:
            trial = json.loads(trial_file.read_text())
        except (OSError, ValueError):
            continue  # a file cut short by a kill: that trial did not end
        if trial.get("status") in ("COMPLETED", "FAILED"):
            ended.add(str(trial["trial_id"]))
    return ended
