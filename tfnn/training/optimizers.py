"""Optimizers by name."""

from __future__ import annotations

import keras


def make_optimizer(name: str, learning_rate: float) -> keras.optimizers.Optimizer:
    """Returns a fresh Keras optimizer.

    Args:
        name: ``sgd`` (plain), ``momentum`` (SGD with momentum 0.9), ``adam``,
            ``rmsprop`` or ``adagrad``.
        learning_rate: Step size.
    """
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate)
    if name == "momentum":
        return keras.optimizers.SGD(learning_rate, momentum=0.9)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate)
    if name == "adagrad":
        return keras.optimizers.Adagrad(learning_rate)
    raise ValueError(f"unknown optimizer {name!r}")
