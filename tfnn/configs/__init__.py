"""Experiment configurations: one frozen dataclass per experiment.

This package never imports TensorFlow, so a typo in a flag is reported in
milliseconds.
"""

from tfnn.configs.common import TrainConfig
from tfnn.configs.digits import DIGITS_PRESETS, DigitsConfig

__all__ = ["DIGITS_PRESETS", "DigitsConfig", "TrainConfig"]
