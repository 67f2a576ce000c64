"""tfnn: classic neural-network assignments as reproducible TensorFlow/Keras experiments.

Importing ``tfnn`` is cheap: TensorFlow loads only when an experiment runs.
"""

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
]
