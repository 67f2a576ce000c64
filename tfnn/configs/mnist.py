"""MNIST experiments: the dense networks (EECE 8740, VU DL A2) and the 4-layer CNN (COMP 576)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from tfnn.configs import validation as check
from tfnn.configs.common import TrainConfig, option


@dataclasses.dataclass(frozen=True)
class MnistConfig(TrainConfig):
    """Fields every MNIST experiment shares: where the data is and how much of it."""

    data: str = option(
        "",
        "mnist.npz or a directory with it or the four IDX files "
        "(default: $TFNN_DATA_DIR, else Keras' download)",
    )
    train_samples: int = option(0, "use only the first N training images (0: all 60,000)")
    validation_samples: int = option(
        5000, "training images held out (seeded) for the per-epoch validation curves"
    )

    def hparams(self) -> dict:
        return {
            **super().hparams(),
            "train_samples": self.train_samples or 60_000,
            "validation_samples": self.validation_samples,
        }

    def validate(self) -> None:
        super().validate()
        check.check_int("train_samples", self.train_samples, minimum=0, maximum=60_000)
        check.check_int("validation_samples", self.validation_samples, minimum=0, maximum=59_000)


@dataclasses.dataclass(frozen=True)
class MnistDnnConfig(MnistConfig):
    """Dense network on MNIST: flatten → dense layers → softmax."""

    experiment: ClassVar[str] = "mnist-dnn"

    arch: tuple[int, ...] = option((150, 120), "hidden layer widths, e.g. 150,120 or 500,250,100")
    activation: str = option("sigmoid", "hidden activation: " + ", ".join(check.ACTIVATIONS))
    l2: float = option(0.0, "L2 strength on the kernels (0 disables)")
    dropout: float = option(0.0, "dropout rate after each hidden layer (0 disables)")
    init: str = option("glorot_uniform", "kernel initializer: " + ", ".join(check.INITIALIZERS))
    init_std: float = option(0.01, "standard deviation for --init normal / truncated_normal")
    learning_rate: float = option(0.01, "step size of the optimizer")
    batch_size: int = option(64, "training samples per step")
    epochs: int = option(50, "passes over the training set")
    jit_compile: bool = option(True, "compile the training step with XLA (faster for dense nets)")

    def validate(self) -> None:
        super().validate()
        check.check_widths("arch", self.arch)
        check.check_network(self)
        check.check_float("l2", self.l2, maximum=10.0, allow_minimum=True)

    def short_name(self) -> str:
        return f"{'x'.join(str(width) for width in self.arch)}-{self.length_name()}"

    def hparams(self) -> dict:
        return {
            **super().hparams(),
            "arch": ",".join(str(width) for width in self.arch),
            "activation": self.activation,
            "l2": self.l2,
            "dropout": self.dropout,
            **self.init_hparams(),
        }


MNIST_DNN_PRESETS: dict[str, dict] = {
    # EECE 8740 HW1: 784-150-120-10 and 784-500-250-100-10, sigmoid, Adam 0.01, batch 64.
    "eece-small": dict(
        arch=(150, 120),
        activation="sigmoid",
        optimizer="adam",
        learning_rate=0.01,
        batch_size=64,
        epochs=50,
    ),
    "eece-large": dict(
        arch=(500, 250, 100),
        activation="sigmoid",
        optimizer="adam",
        learning_rate=0.01,
        batch_size=64,
        epochs=50,
    ),
    # VU DL A2: one hidden layer of 4 x 784 sigmoid units, plain SGD, batch 128, 20 epochs.
    "vu-mlp": dict(
        arch=(3136,),
        activation="sigmoid",
        optimizer="sgd",
        learning_rate=0.01,
        batch_size=128,
        epochs=20,
    ),
    # Our best dense configuration (docs/reproduce.md has its measured accuracy).
    "best": dict(
        arch=(1024, 1024),
        activation="relu",
        optimizer="adam",
        learning_rate=0.001,
        batch_size=128,
        epochs=30,
        dropout=0.3,
    ),
}


@dataclasses.dataclass(frozen=True)
class CnnConfig(MnistConfig):
    """COMP 576's 4-layer convolutional network: conv-pool-conv-pool-fc1024-dropout-softmax."""

    experiment: ClassVar[str] = "cnn"

    activation: str = option("relu", "hidden activation: " + ", ".join(check.ACTIVATIONS))
    init: str = option("glorot_uniform", "kernel initializer: " + ", ".join(check.INITIALIZERS))
    init_std: float = option(0.1, "standard deviation for --init normal / truncated_normal")
    bias_init: float = option(0.0, "initial value of every bias (the assignment used 0.1)")
    dropout: float = option(0.5, "dropout rate before the output layer")
    optimizer: str = option("adam", "one of " + ", ".join(check.OPTIMIZERS))
    learning_rate: float = option(0.001, "step size of the optimizer")
    batch_size: int = option(64, "training samples per step")
    epochs: int = option(5, "passes over the training set")
    # XLA measured slower for this CNN on CPU (docs/performance.md), so it stays off.
    jit_compile: bool = option(False, "compile the training step with XLA")

    def validate(self) -> None:
        super().validate()
        check.check_network(self)
        check.check_float(
            "bias_init", self.bias_init, minimum=-10.0, maximum=10.0, allow_minimum=True
        )

    def short_name(self) -> str:
        return f"{self.activation}-{self.length_name()}"

    def hparams(self) -> dict:
        return {
            **super().hparams(),
            "activation": self.activation,
            # The network (build_cnn), as the dense nets name their widths.
            "arch": "conv32,conv64,fc1024",
            "dropout": self.dropout,
            **self.init_hparams(),
            "init_bias": self.bias_init,
        }


CNN_PRESETS: dict[str, dict] = {
    # The assignment's settings: truncated normal std 0.1, biases 0.1, Adam 1e-4, batch 50,
    # 5,500 steps (5 epochs of 55,000 with 5,000 held out).
    "seed-assignment": dict(
        init="truncated_normal",
        init_std=0.1,
        bias_init=0.1,
        optimizer="adam",
        learning_rate=1e-4,
        batch_size=50,
        steps=5500,
        validation_samples=5000,
    ),
}
