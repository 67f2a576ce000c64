"""The two-moons experiment (COMP 576 Assignment 1, parts 1e and 2)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from tfnn.configs import validation as check
from tfnn.configs.common import TrainConfig, option

MOONS_ACTIVATIONS = ("tanh", "sigmoid", "relu")


@dataclasses.dataclass(frozen=True)
class MoonsConfig(TrainConfig):
    """Fully connected network on scikit-learn's make_moons, full-batch gradient descent.

    The defaults are the assignment's run: 200 points with noise 0.2 (seed 0),
    3 tanh units, 20,000 full-batch steps. The assignment sums the
    cross-entropy over the batch and steps by 0.01 with L2 λ = 0.01 (the
    gradient of λ/2·ΣW²); on Keras' mean loss that is a step of
    0.01 · 200 = 2.0 and ``l2`` = λ / (2 · 200) = 2.5e-5, which reproduces
    the report's losses within 1% and reports them on the same scale.
    """

    experiment: ClassVar[str] = "moons"

    hidden: tuple[int, ...] = option((3,), "hidden layer widths, e.g. 3 or 10,6,4,3,3")
    activation: str = option("tanh", "hidden activation: " + ", ".join(MOONS_ACTIVATIONS))
    l2: float = option(2.5e-5, "L2 strength on the kernels, l2·ΣW² added to the mean loss")
    samples: int = option(200, "points in the training set and, drawn separately, in the test set")
    noise: float = option(0.2, "standard deviation of the Gaussian noise make_moons adds")
    learning_rate: float = option(2.0, "step size of the optimizer")
    batch_size: int = option(200, "training samples per step (= --samples: full batch)")
    optimizer: str = option("sgd", "one of " + ", ".join(check.OPTIMIZERS))
    steps: int = option(20_000, "total training steps (full batch: passes over the data)")
    epochs: int = option(10, "not used: moons trains for --steps steps")
    # With full batch one pass is one step; 20,000 one-step epochs would spend
    # their time in per-epoch evaluation and callbacks instead of training.
    steps_per_epoch: int = option(
        1000, "training steps between epoch-end logs (test curves, decision boundary)"
    )
    # A step here takes a fraction of a millisecond, so 20 compiled calls instead of
    # 800 save about a sixth of the run; step logs land on call ends (every 1,000).
    steps_per_execution: int = option(1000, "at most this many training steps per compiled call")
    log_every: int = option(1000, "write step scalars (loss, accuracy) every N training steps")
    # The assignment asks for layer statistics only for its CNN; here tracing and
    # writing their histograms would add a few seconds to a run of under ten.
    layer_statistics: bool = option(
        False, "log weights/biases/net inputs/activations statistics every --stats-every steps"
    )
    stats_every: int = option(
        1000, "write layer statistics (histograms, min/max/mean/std) every N training steps"
    )
    # Every image costs about as much as 1,000 training steps of the small networks.
    images_every: int = option(
        10,
        "write the decision boundary (and with --images the confusion matrix) every N "
        "epochs and after the last (0: about ten times per run)",
    )
    # Two classes: the decision boundary shows more than a 2 x 2 confusion
    # matrix, whose rendering every epoch would cost about as much as the training.
    images: bool = option(False, "confusion matrix of the test set each epoch")
    # 2-D inputs have no useful Projector view; the decision boundary is the picture.
    embedding_samples: int = option(
        0, "test samples whose hidden representation goes to the Projector"
    )

    def validate(self) -> None:
        super().validate()
        check.check_widths("hidden", self.hidden)
        check.check_choice("activation", self.activation, MOONS_ACTIVATIONS)
        check.check_float("l2", self.l2, maximum=10.0, allow_minimum=True)
        check.check_int("samples", self.samples, minimum=2, maximum=1_000_000)
        check.check_float("noise", self.noise, maximum=10.0, allow_minimum=True)
        check.check_int("steps_per_epoch", self.steps_per_epoch)
        if self.steps <= 0:
            raise check.ConfigError(
                f"{{steps}} {self.steps!r} is not allowed: moons trains for a number of "
                "full-batch steps, e.g. {steps} 20000"
            )
        # Epochs all have the same length, so any other budget would overshoot it.
        if self.steps > self.steps_per_epoch and self.steps % self.steps_per_epoch:
            raise check.ConfigError(
                f"{{steps}} {self.steps!r} is not allowed: must be a multiple of "
                f"{{steps_per_epoch}} {self.steps_per_epoch} or smaller than it"
            )

    def short_name(self) -> str:
        widths = "x".join(str(width) for width in self.hidden)
        return f"{widths}-{self.activation}-{self.length_name()}"

    def hparams(self) -> dict:
        return {
            **super().hparams(),
            # "arch", as the other networks name their hidden widths.
            "arch": ",".join(str(width) for width in self.hidden),
            "activation": self.activation,
            "dropout": 0.0,
            "l2": self.l2,
            "samples": self.samples,
            "noise": self.noise,
        }


# The report's grid (part 1e: one hidden layer; part 2: deeper networks); every
# preset keeps the assignment's data, step size, L2 and 20,000 steps.
MOONS_PRESETS: dict[str, dict] = {
    "tanh-3": dict(hidden=(3,), activation="tanh"),
    "sigmoid-3": dict(hidden=(3,), activation="sigmoid"),
    "relu-3": dict(hidden=(3,), activation="relu"),
    "tanh-100": dict(hidden=(100,), activation="tanh"),
    "tanh-3-3-3": dict(hidden=(3, 3, 3), activation="tanh"),
    "sigmoid-10-6-4-3-3": dict(hidden=(10, 6, 4, 3, 3), activation="sigmoid"),
}
