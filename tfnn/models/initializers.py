"""Kernel initializers by name."""

from __future__ import annotations

import keras


def make_initializer(name: str, std: float = 0.01, seed: int | None = None):
    """Returns a Keras initializer.

    Args:
        name: One of ``tfnn.configs.validation.INITIALIZERS``.
        std: Standard deviation for ``normal`` and ``truncated_normal``.
        seed: Seed for the random initializers; ``None`` draws from Keras' global seed.
    """
    if name == "normal":
        return keras.initializers.RandomNormal(stddev=std, seed=seed)
    if name == "truncated_normal":
        return keras.initializers.TruncatedNormal(stddev=std, seed=seed)
    if name == "zeros":
        return keras.initializers.Zeros()
    return keras.initializers.get({"class_name": name, "config": {"seed": seed}})
