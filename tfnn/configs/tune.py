"""`tfnn tune ...`: random hyperparameter search settings (TensorFlow-free)."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from tfnn.configs import validation as check
from tfnn.configs.common import option
from tfnn.configs.digits import SPLITS
from tfnn.errors import ConfigError

TUNE_EXPERIMENTS = ("digits", "mnist-dnn")
OBJECTIVES = ("val_accuracy", "val_loss")
# Written into the project directory on the first run; a resumed run must match it.
TUNE_CONFIG_FILE = "tune.json"
# Fields that shape the search space, the data or the trials' numbers: changing one of
# them on resume would mix incomparable trials in one oracle.
SEARCH_DEFINING_FIELDS = (
    "experiment",
    "objective",
    "seed",
    "max_epochs",
    "validation_fraction",
    "split",
    "train_samples",
)


@dataclasses.dataclass(frozen=True)
class TuneConfig:
    """One `tfnn tune EXPERIMENT` search: keras-tuner's RandomSearch over the model space.

    The hyperparameter spaces live in ``tfnn.tuning.hypermodels``; these fields say how
    long to search, where the project lives and how to split the data.
    """

    experiment: str = option("digits", "what to tune: " + ", ".join(TUNE_EXPERIMENTS))
    # 160 random configurations is what the CS-587 report searched.
    trials: int = option(160, "random configurations to try (the total, counting resumed ones)")
    objective: str = option("val_accuracy", "what selects the best trial: val_accuracy or val_loss")
    seed: int = option(0, "seed for the sampled configurations, weights, shuffling and splits")
    project_dir: str = option("", "keras-tuner project directory (default: logs/tune/EXPERIMENT)")
    workers: int = option(1, "parallel tuner processes on this machine (> 1: chief + workers)")
    resume: bool = option(
        False, "insist on continuing an existing search (continuing is the default)"
    )
    overwrite: bool = option(False, "delete the project directory first (needs --yes if not empty)")
    yes: bool = option(False, "confirm --overwrite of a non-empty project directory")
    max_epochs: int = option(0, "cap the epochs choices, e.g. 2 for a quick search (0: no cap)")
    validation_fraction: float = option(
        0.2, "share of the training split held out (stratified, seeded) to select trials"
    )
    # Ten trials: in a 160-trial digits search the top ten were one or two of the 288
    # validation images apart, so the validation score alone cannot tell them apart.
    rerank_top: int = option(
        10,
        "cross-validate the best N trials on the whole training split and choose the best "
        "mean (0 or 1: choose by the validation split alone)",
    )
    cv_folds: int = option(5, "folds of that cross-validation (stratified, seeded)")
    # Five NaN trials in a row means the space, not bad luck, is the problem.
    max_consecutive_failures: int = option(5, "stop after this many failed trials in a row")
    split: str = option("stratified", "digits only: stratified or assignment (see tfnn train)")
    data: str = option("", "mnist-dnn only: mnist.npz or its directory (see tfnn train)")
    train_samples: int = option(0, "mnist-dnn only: use the first N training images (0: all)")
    strategy: str = option(
        "default",
        "tf.distribute strategy of every trial: default or mirrored (all local GPUs, else "
        "the CPU; the tuned batch size is then the global batch)",
    )

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raises ConfigError naming the first bad field."""
        check.check_choice("experiment", self.experiment, TUNE_EXPERIMENTS)
        check.check_int("trials", self.trials, maximum=100_000)
        check.check_choice("objective", self.objective, OBJECTIVES)
        check.check_int("seed", self.seed, minimum=0)
        check.check_int("workers", self.workers, maximum=64)
        check.check_int("max_epochs", self.max_epochs, minimum=0, maximum=100_000)
        check.check_float("validation_fraction", self.validation_fraction, maximum=0.9)
        check.check_int("max_consecutive_failures", self.max_consecutive_failures)
        check.check_int("rerank_top", self.rerank_top, minimum=0, maximum=1000)
        check.check_int("cv_folds", self.cv_folds, minimum=2, maximum=20)
        check.check_choice("split", self.split, SPLITS)
        check.check_int("train_samples", self.train_samples, minimum=0, maximum=60_000)
        if self.strategy == "multiworker":
            raise ConfigError(
                "{strategy} multiworker is not for tune: {workers} N runs trials in parallel"
            )
        check.check_choice("strategy", self.strategy, ("default", "mirrored"))
        if not isinstance(self.project_dir, str):
            raise ConfigError("{project_dir} must be a directory path")
        if self.resume and self.overwrite:
            raise ConfigError("{resume} and {overwrite} contradict each other: choose one")
        if self.train_samples and self.experiment != "mnist-dnn":
            raise ConfigError("{train_samples} is for mnist-dnn only")

    @property
    def project_path(self) -> Path:
        """The project directory, ``logs/tune/<experiment>`` unless given."""
        return Path(self.project_dir or os.path.join("logs", "tune", self.experiment))

    def search_settings(self) -> dict:
        """The fields a resumed search must share with the one it continues."""
        return {name: getattr(self, name) for name in SEARCH_DEFINING_FIELDS}

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TuneConfig:
        """The config saved in ``tune.json`` (unknown keys from other versions dropped)."""
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in names})


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
