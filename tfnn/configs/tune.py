"""`tfnn tune ...`: random hyperparameter search settings (TensorFlow-free)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from tfnn.configs import validation as check
from tfnn.configs.common import option
from tfnn.configs.digits import SPLITS
from tfnn.errors import ConfigError

TUNE_EXPERIMENTS = ("digits", "mnist-dnn")
OBJECTIVES = ("val_accuracy", "val_loss")
AUTOMATIC_PACK = {"digits": 8, "mnist-dnn": 8}
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
    # Eight slots: a 160-trial digits search took 62 s with 8, 65 s with 4 and 74 s
    # with 32 (docs/tuning.md, "Packs"); wider packs pad more of each step.
    pack: int = option(
        0,
        "trials trained at once in one compiled program (0: automatic, 8; 1: one at a "
        "time, as keras-tuner does)",
    )
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
        check.check_int("pack", self.pack, minimum=0, maximum=1024)
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
    def pack_size(self) -> int:
        """Trials per pack: ``pack``, or the experiment's measured choice; 1 under a
        ``mirrored`` strategy, which spreads each trial over the devices instead."""
        if self.strategy != "default":
            return 1
        return self.pack or AUTOMATIC_PACK[self.experiment]

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
