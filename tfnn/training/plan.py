"""How long a run trains: epochs, steps per epoch and the global batch."""

from __future__ import annotations

import dataclasses
import math

from tfnn.configs.common import TrainConfig


@dataclasses.dataclass(frozen=True)
class StepPlan:
    """The training budget of one run.

    Attributes:
        epochs: Epochs to train (counting those a resumed run already did).
        steps_per_epoch: Training steps per epoch.
        global_batch_size: Samples per step over all replicas.
    """

    epochs: int
    steps_per_epoch: int
    global_batch_size: int

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch


def plan_steps(config: TrainConfig, train_samples: int, global_batch_size: int) -> StepPlan:
    """Whole passes, or the ``steps`` budget cut into equal epochs of at most one pass
    each (exact when the budget divides evenly)."""
    steps_per_pass = math.ceil(train_samples / global_batch_size)
    if config.steps <= 0:
        return StepPlan(config.epochs, steps_per_pass, global_batch_size)
    # A config may ask for longer epochs: with a full batch (moons) a pass is one
    # step, and one-step epochs would spend the run in per-epoch evaluation and callbacks.
    epoch_length = max(steps_per_pass, getattr(config, "steps_per_epoch", 0))
    epochs = math.ceil(config.steps / epoch_length)
    return StepPlan(epochs, math.ceil(config.steps / epochs), global_batch_size)


def default_images_every(epochs: int) -> int:
    """Epochs between two drawings of the figures in an ``epochs``-epoch run when
    ``images_every`` is 0: about ten times per run."""
    return max(1, epochs // 10)
