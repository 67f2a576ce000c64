"""Fields every training experiment shares."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from tfnn.configs import validation as check


def option(default, help: str, **metadata):  # noqa: A002 - mirrors argparse's name
    """A dataclass field that the CLI turns into a flag with this help text."""
    return dataclasses.field(default=default, metadata={"help": help, **metadata})


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Settings shared by every `tfnn train ...` experiment.

    Subclasses add the experiment's own fields and set ``experiment``.
    """

    experiment: ClassVar[str] = "train"

    learning_rate: float = option(0.01, "step size of the optimizer")
    batch_size: int = option(32, "training samples per step")
    epochs: int = option(10, "passes over the training set")
    steps: int = option(0, "total training steps; when > 0 it replaces --epochs")
    optimizer: str = option("adam", "one of " + ", ".join(check.OPTIMIZERS))
    seed: int = option(0, "seed for weights, shuffling and splits")
    deterministic: bool = option(
        False, "enable TensorFlow op determinism (bit-identical reruns, a little slower)"
    )
    logdir: str = option("logs", "TensorBoard log root; each run gets its own directory inside")
    log_every: int = option(100, "write step scalars (loss, accuracy) every N training steps")
    stats_every: int = option(
        100, "write layer statistics (histograms, min/max/mean/std) every N training steps"
    )
    layer_statistics: bool = option(
        True, "log weights/biases/net inputs/activations statistics every --stats-every steps"
    )
    images: bool = option(True, "confusion matrix and misclassified test images")
    # Rendering a figure costs ~0.1 s: more than a whole digits epoch.
    images_every: int = option(
        0, "write the images every N epochs (0: about ten times per run, always the last)"
    )
    embedding_samples: int = option(
        2000, "test samples whose hidden representation goes to the Projector and t-SNE (0: none)"
    )
    # Running many steps per Python call is what makes per-step hooks cheap; the runner
    # uses the largest divisor of the epoch's steps up to this (see resolve_steps_per_execution).
    steps_per_execution: int = option(32, "at most this many training steps per compiled call")
    jit_compile: bool = option(False, "compile the training step with XLA")
    # --batch-size is per replica: a step trains on batch_size x replicas samples.
    strategy: str = option(
        "default",
        "tf.distribute strategy: default (one device), mirrored (all local GPUs, else the "
        "CPU), multiworker (the processes in TF_CONFIG; see `tfnn launch`)",
    )
    mixed_precision: bool = option(
        False, "mixed_float16 layers with float32 variables and softmax (for GPUs)"
    )

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raises ConfigError naming the first bad field."""
        check.check_float("learning_rate", self.learning_rate, maximum=10.0)
        check.check_int("batch_size", self.batch_size, maximum=1_000_000)
        check.check_int("epochs", self.epochs, maximum=100_000)
        check.check_int("steps", self.steps, minimum=0)
        check.check_int("images_every", self.images_every, minimum=0)
        check.check_int("embedding_samples", self.embedding_samples, minimum=0)
        check.check_choice("optimizer", self.optimizer, check.OPTIMIZERS)
        check.check_choice("strategy", self.strategy, check.STRATEGIES)
        check.check_int("seed", self.seed, minimum=0)
        check.check_int("log_every", self.log_every)
        check.check_int("stats_every", self.stats_every)
        check.check_int("steps_per_execution", self.steps_per_execution, maximum=10_000)
        if not isinstance(self.logdir, str) or not self.logdir:
            raise check.ConfigError("{logdir} must be a directory path")

    def short_name(self) -> str:
        """What the run trained, in a few characters, for the run directory's name
        (every setting is in its HParams and ``results.json``): the experiment's key
        settings and the training length, ``e40`` epochs or ``s300`` steps."""
        return self.length_name()

    def length_name(self) -> str:
        return f"s{self.steps}" if self.steps > 0 else f"e{self.epochs}"

    def hparams(self) -> dict[str, bool | int | float | str]:
        """The settings that shape the run's numbers, as TensorBoard's HParams shows them
        (run-time settings such as logging cadences are left out)."""
        length = {"steps": self.steps} if self.steps > 0 else {"epochs": self.epochs}
        return {
            "experiment": self.experiment,
            "optimizer": self.optimizer,
            "learning_rate": self.learning_rate,
            "batch_size": self.batch_size,
            **length,
            "seed": self.seed,
        }

    def init_hparams(self) -> dict[str, str | float]:
        """``init``, with ``init_std`` only where the initializer uses it."""
        init = getattr(self, "init", None)
        if init is None:
            return {}
        if init in ("normal", "truncated_normal"):
            return {"init": init, "init_std": self.init_std}
        return {"init": init}

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
