"""Per-epoch validation by one compiled call gives Keras' own validation numbers."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from tfnn.training.compile import make_loss
from tfnn.training.validation import EpochValidation


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_epoch_validation_matches_keras_evaluate(reduction):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(300, 5)).astype(np.float32)
    y = rng.integers(0, 3, size=300)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(8, activation="relu", kernel_regularizer=keras.regularizers.L2(0.1)),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="sgd", loss=make_loss(reduction), metrics=["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)

    logs = {"loss": 1.0}
    validation = EpochValidation(x, y, batch_size=128)
    validation.set_model(model)
    validation.on_epoch_end(0, logs)
    expected = model.evaluate(x, y, batch_size=128, verbose=0, return_dict=True)

    assert logs["loss"] == 1.0  # the training numbers stay
    assert set(logs) == {"loss", "val_loss", "val_accuracy"}
    # Three batches (128, 128, 44), each weighted by its size, regularization included.
    assert logs["val_loss"] == pytest.approx(expected["loss"], rel=1e-6)
    assert logs["val_accuracy"] == pytest.approx(expected["accuracy"], abs=1e-7)
    assert 0.0 < logs["val_accuracy"] < 1.0
