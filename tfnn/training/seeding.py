"""Seeds and determinism."""

from __future__ import annotations

import keras
import tensorflow as tf

_determinism_enabled = False


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seeds Python, NumPy, TensorFlow and Keras; optionally makes TF ops deterministic.

    Op determinism cannot be switched off again in a process, so it is only
    turned on when asked for.
    """
    global _determinism_enabled
    keras.utils.set_random_seed(seed)
    if deterministic and not _determinism_enabled:
        tf.config.experimental.enable_op_determinism()
        _determinism_enabled = True
