"""CIFAR-10 experiment: the PyTorch "60-minute blitz" CNN (VU DL A2, CIFAR-10 part)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from tfnn.configs import validation as check
from tfnn.configs.common import TrainConfig, option

TRAIN_IMAGES = 50_000


@dataclasses.dataclass(frozen=True)
class Cifar10Config(TrainConfig):
    """Blitz CNN on CIFAR-10: conv-pool-conv-pool-fc120-fc84-softmax.

    Defaults are the VU report's CIFAR-10 settings for its SGD runs: batch 50,
    learning rate 0.003, SGD with momentum 0.9 (the blitz tutorial's optimizer).
    Not a subclass of ``MnistConfig``: its limits and help texts are MNIST's.
    """

    experiment: ClassVar[str] = "cifar10"

    data: str = option(
        "",
        "cifar-10-batches-py or a directory containing it "
        "(default: $TFNN_DATA_DIR, else Keras' download)",
    )
    train_samples: int = option(0, "use only the first N training images (0: all 50,000)")
    validation_samples: int = option(
        5000, "training images held out (seeded) for the per-epoch validation curves"
    )
    optimizer: str = option("momentum", "one of " + ", ".join(check.OPTIMIZERS))
    learning_rate: float = option(0.003, "step size of the optimizer")
    batch_size: int = option(50, "training samples per step")
    epochs: int = option(20, "passes over the training set")

    def validate(self) -> None:
        super().validate()
        check.check_int("train_samples", self.train_samples, minimum=0, maximum=TRAIN_IMAGES)
        check.check_int(
            "validation_samples", self.validation_samples, minimum=0, maximum=TRAIN_IMAGES - 1000
        )

    def short_name(self) -> str:
        return f"{self.optimizer}-{self.length_name()}"

    def hparams(self) -> dict:
        return {
            **super().hparams(),
            # The fixed blitz network, named as the other networks are.
            "arch": "conv6,conv16,fc120,fc84",
            "activation": "relu",
            "dropout": 0.0,
            "train_samples": self.train_samples or TRAIN_IMAGES,
            "validation_samples": self.validation_samples,
        }


CIFAR10_PRESETS: dict[str, dict] = {
    # The tutorial itself: SGD lr 0.001 momentum 0.9, batch 4, 2 epochs.
    "blitz": dict(optimizer="momentum", learning_rate=0.001, batch_size=4, epochs=2),
    # The report's last Adam run: batch 50, lr 0.0005, 20 epochs (64.7% best epoch).
    "vu-adam": dict(optimizer="adam", learning_rate=0.0005, batch_size=50, epochs=20),
}
