"""FLOPs per sample counted from a model's layers (multiply-add = 2 FLOPs)."""

from __future__ import annotations

import math

import keras

# Backward pass ≈ 2× forward (gradients w.r.t. inputs and weights).
TRAINING_FACTOR = 3


def forward_flops(model: keras.Model) -> int:
    """Forward FLOPs per sample of the Conv2D and Dense layers."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, height, width, filters = layer.output.shape
            kernel_height, kernel_width = layer.kernel_size
            channels = layer.input.shape[-1]
            total += 2 * height * width * filters * kernel_height * kernel_width * channels
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * math.prod(layer.kernel.shape)
    return int(total)


def training_flops(model: keras.Model) -> int:
    """FLOPs per training sample: forward plus backward."""
    return TRAINING_FACTOR * forward_flops(model)
