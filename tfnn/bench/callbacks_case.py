"""Benchmark case ``callbacks``: a user's own Keras model (the MNIST dense net, built and
compiled as a notebook would) fitted three ways in the same run: plain ``model.fit``,
with ``tfnn.tensorboard.callbacks`` and with Keras' ``TensorBoard(histogram_freq=1,
write_graph=True)``."""

from __future__ import annotations

import tempfile

import keras
import numpy as np

from tfnn.bench.timing import EpochTimes
from tfnn.data.mnist import load_mnist

VARIANTS = ("tfnn", "plain-fit", "keras-tensorboard")
BATCH_SIZE = 64


def user_model() -> keras.Model:
    """The EECE 8740 784-150-120-10 net, compiled with Keras' defaults."""
    model = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(150, activation="relu", name="fc1"),
            keras.layers.Dense(120, activation="relu", name="fc2"),
            keras.layers.Dense(10, activation="softmax", name="out"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def measure_callbacks(variant: str, epochs: int, samples: int) -> dict:
    """Fits the user's model for ``epochs`` epochs with ``variant``'s logging."""
    from tfnn import tensorboard

    dataset = load_mnist()
    x, y = dataset.x_train.reshape(-1, 784), dataset.y_train
    x_test = dataset.x_test.reshape(-1, 784)
    if samples:
        x, y = x[:samples], y[:samples]
    keras.utils.set_random_seed(0)
    model = user_model()
    timer = EpochTimes()
    with tempfile.TemporaryDirectory() as logdir:
        logging = {
            "plain-fit": [],
            "tfnn": tensorboard.callbacks(
                logdir,
                hparams={"arch": "150,120", "batch_size": BATCH_SIZE},
                probe=(x[:256], y[:256]),
                figures=(x_test, dataset.y_test),
                figure_images=dataset.x_test,
            ),
            "keras-tensorboard": [
                keras.callbacks.TensorBoard(logdir, histogram_freq=1, write_graph=True)
            ],
        }[variant]
        model.fit(
            x,
            y,
            batch_size=BATCH_SIZE,
            epochs=epochs,
            validation_data=(x_test, dataset.y_test),
            callbacks=[*logging, timer],
            verbose=0,
        )
    _, accuracy = model.evaluate(x_test, dataset.y_test, batch_size=1024, verbose=0)
    return {
        "epoch_times": timer.times,
        "samples_per_epoch": int(np.ceil(len(x) / BATCH_SIZE)) * BATCH_SIZE,
        "test_accuracy": float(accuracy),
    }
