"""tfnn: classic neural-network assignments as reproducible TensorFlow/Keras experiments.

- ``tfnn.train("digits", epochs=5)``: one experiment's run, as ``tfnn train digits``;
- ``tfnn.tune("digits", trials=20)``: a search, as ``tfnn tune digits``;
- ``tfnn.tensorboard.callbacks("logs/mine")``: tfnn's TensorBoard view for any Keras model.

Importing ``tfnn`` is cheap: TensorFlow loads only when an experiment runs or
``tfnn.tensorboard`` is first used.
"""

import importlib

from tfnn.api import experiment_config, train, tune
from tfnn.configs import DIGITS_PRESETS, DigitsConfig, TrainConfig
from tfnn.errors import ConfigError, DataError, TfnnError, TrainingDiverged

__version__ = "0.1.0"

__all__ = [
    "DIGITS_PRESETS",
    "ConfigError",
    "DataError",
    "DigitsConfig",
    "TfnnError",
    "TrainConfig",
    "TrainingDiverged",
    "__version__",
    "experiment_config",
    "tensorboard",
    "train",
    "tune",
]


def __getattr__(name: str):
    # Loaded on first use: `import tfnn` stays TensorFlow-free.
    if name == "tensorboard":
        return importlib.import_module("tfnn.tensorboard")
    raise AttributeError(f"module 'tfnn' has no attribute {name!r}")
