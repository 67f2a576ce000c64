"""Compiling a model the one way tfnn trains: optimizer by name, cross-entropy, accuracy."""

from __future__ import annotations

import keras

from tfnn.configs.common import TrainConfig
from tfnn.training.optimizers import make_optimizer

MAX_STEPS_PER_EXECUTION = 32


def resolve_steps_per_execution(requested: int, steps_per_epoch: int) -> int:
    """Training steps per compiled call: the largest divisor of ``steps_per_epoch`` up
    to ``requested`` (32 when 0).

    It must divide the epoch: with an endless stream Keras runs every call in
    full, so a call that crosses the epoch's end would train extra steps.
    """
    limit = requested if requested > 0 else MAX_STEPS_PER_EXECUTION
    return max(d for d in range(1, min(limit, steps_per_epoch) + 1) if steps_per_epoch % d == 0)


def make_loss(reduction: str = "mean") -> keras.losses.Loss:
    """Sparse categorical cross-entropy, averaged or summed over the batch."""
    keras_reduction = "sum" if reduction == "sum" else "sum_over_batch_size"
    return keras.losses.SparseCategoricalCrossentropy(reduction=keras_reduction)


def compile_model(
    model: keras.Model, config: TrainConfig, steps_per_epoch: int | None = None
) -> keras.Model:
    """Compiles ``model`` with the config's optimizer and execution settings."""
    model.compile(
        optimizer=make_optimizer(config.optimizer, config.learning_rate),
        loss=make_loss(getattr(config, "loss_reduction", "mean")),
        metrics=["accuracy"],
        steps_per_execution=resolve_steps_per_execution(
            config.steps_per_execution, steps_per_epoch or MAX_STEPS_PER_EXECUTION
        ),
        jit_compile=config.jit_compile,
    )
    return model
