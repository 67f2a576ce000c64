"""Every `tfnn train NAME` experiment, without importing TensorFlow.

Each entry: the config class, its presets, and ``"module:attribute"`` of the
:class:`tfnn.experiments.spec.Experiment` that runs it (imported only when used).
"""

from __future__ import annotations

import importlib
from typing import NamedTuple

from tfnn.configs.cifar import CIFAR10_PRESETS, Cifar10Config
from tfnn.configs.digits import DIGITS_PRESETS, DigitsConfig
from tfnn.configs.mnist import CNN_PRESETS, MNIST_DNN_PRESETS, CnnConfig, MnistDnnConfig
from tfnn.configs.moons import MOONS_PRESETS, MoonsConfig


class Entry(NamedTuple):
    config_class: type
    presets: dict[str, dict]
    experiment: str


EXPERIMENTS: dict[str, Entry] = {
    "digits": Entry(DigitsConfig, DIGITS_PRESETS, "tfnn.experiments.digits:DIGITS"),
    "moons": Entry(MoonsConfig, MOONS_PRESETS, "tfnn.experiments.moons:MOONS"),
    "mnist-dnn": Entry(MnistDnnConfig, MNIST_DNN_PRESETS, "tfnn.experiments.mnist:MNIST_DNN"),
    "cnn": Entry(CnnConfig, CNN_PRESETS, "tfnn.experiments.mnist:CNN"),
    "cifar10": Entry(Cifar10Config, CIFAR10_PRESETS, "tfnn.experiments.cifar:CIFAR10"),
}


def load_experiment(name: str):
    """Imports and returns the ``Experiment`` registered as ``name``."""
    module_name, attribute = EXPERIMENTS[name].experiment.split(":")
    return getattr(importlib.import_module(module_name), attribute)
