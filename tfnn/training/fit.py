"""The one way tfnn fits a compiled model: single runs, tuner trials and distributed workers.

Every fit trains on the same seeded stream of batches (``make_training_stream``), so a
resumed run, a tuner trial and its retrained configuration see exactly the batches an
uninterrupted ``tfnn train`` would. Keras' ``fit`` drives the callbacks; under
``MultiWorkerMirroredStrategy``, where Keras 3's ``fit`` fails, tfnn's own loop
(:mod:`tfnn.training.multiworker`) drives the same callbacks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Sequence

import keras
import numpy as np

from tfnn.training.multiworker import fit_distributed
from tfnn.training.placement import Placement
from tfnn.training.plan import StepPlan
from tfnn.training.streams import EVALUATION_BATCH_SIZE, make_dataset, make_training_stream
from tfnn.training.validation import EpochValidation


@dataclasses.dataclass(frozen=True)
class TrainingData:
    """What a fit trains on and scores after its epochs.

    Attributes:
        x: Training inputs.
        y: Training labels.
        seed: Seeds the order of the batches, pass by pass.
        validation: Held-out ``(x, y)`` scored as ``val_*`` after epochs, or None.
        validation_epochs: The (1-based) epochs to score after; None: every epoch.
    """

    x: np.ndarray
    y: np.ndarray
    seed: int
    validation: tuple[np.ndarray, np.ndarray] | None = None
    validation_epochs: Collection[int] | None = None


def fit_model(
    model: keras.Model,
    data: TrainingData,
    plan: StepPlan,
    callbacks: Sequence[keras.callbacks.Callback],
    placement: Placement | None = None,
    make_local_model: Callable[[], keras.Model] | None = None,
    first_epoch: int = 0,
) -> keras.Model:
    """Trains ``model`` (compiled, in ``placement``'s scope) for ``plan``.

    Args:
        model: The compiled model.
        data: The training arrays, the seed of their order and the validation set.
        plan: Epochs, steps per epoch and the global batch.
        callbacks: Keras callbacks, in the order they run.
        placement: The run's strategy (None: TensorFlow's default, one device).
        make_local_model: Multi-worker only: builds the chief's plain copy of the model.
        first_epoch: Epochs done already (a resumed run): the stream starts after them.

    Returns:
        The trained model (under multi-worker, the chief's local copy).
    """
    validation_callbacks: list[keras.callbacks.Callback] = []
    validation_data = None
    if data.validation is not None:
        if placement is None or placement.config.strategy == "default":
            # First, so every later callback sees the epoch's val_* numbers.
            validation_callbacks = [
                EpochValidation(*data.validation, EVALUATION_BATCH_SIZE, data.validation_epochs)
            ]
        else:  # Keras' evaluate spreads the model over the strategy's devices
            validation_data = make_dataset(*data.validation, EVALUATION_BATCH_SIZE, False, 0)
    callbacks = [*validation_callbacks, *callbacks]
    if placement is not None and placement.multiworker:
        return fit_distributed(
            model,
            placement.strategy,
            x_train=data.x,
            y_train=data.y,
            global_batch_size=plan.global_batch_size,
            seed=data.seed,
            epochs=plan.epochs,
            steps_per_epoch=plan.steps_per_epoch,
            loss_reduction=getattr(placement.config, "loss_reduction", "mean"),
            callbacks=callbacks,
            validation_data=validation_data,
            make_local_model=make_local_model,
            chief=placement.chief,
        )
    stream = make_training_stream(
        data.x,
        data.y,
        plan.global_batch_size,
        data.seed,
        first_step=first_epoch * plan.steps_per_epoch,
    )
    model.fit(
        stream,
        validation_data=validation_data,
        validation_freq=sorted(data.validation_epochs) if data.validation_epochs else 1,
        epochs=plan.epochs,
        steps_per_epoch=plan.steps_per_epoch,
        callbacks=callbacks,
        shuffle=False,  # the stream is already shuffled, pass by pass
        verbose=0,
    )
    return model
