"""`tfnn train moons`: COMP 576's two-moons network, with its decision boundary.

Data: ``make_moons(samples, noise)`` seeded with ``--seed``, all of it for
training (as in the assignment, whose starter code calls ``np.random.seed(0)``
before ``make_moons(200, noise=0.20)``: seed 0 gives the very same points). The
test set is a separate draw of as many points from its own seeded stream, so
it never overlaps the training set and changes with ``--seed`` too.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np
from sklearn.datasets import make_moons

from tfnn.configs.moons import MoonsConfig
from tfnn.data.dataset import Dataset
from tfnn.experiments.spec import Experiment, run_experiment
from tfnn.models.mlp import build_mlp
from tfnn.tensorboard.images import DECISION_BOUNDARY_TAG, write_decision_boundary

# The test set's seed stream: [seed, 1] can never equal the training set's int seed.
TEST_STREAM = 1


def load_moons(samples: int = 200, noise: float = 0.2, seed: int = 0) -> Dataset:
    """Two interleaved half circles: ``samples`` training and as many test points.

    Args:
        samples: Points in each of the training and the test set.
        noise: Standard deviation of the Gaussian noise added to every point.
        seed: Seed of the training draw; the test draw uses ``[seed, 1]``.
    """
    x_train, y_train = make_moons(samples, noise=noise, random_state=seed)
    x_test, y_test = make_moons(
        samples, noise=noise, random_state=np.random.RandomState([seed, TEST_STREAM])
    )
    return Dataset(
        x_train=x_train.astype(np.float32),
        y_train=y_train.astype(np.int64),
        x_test=x_test.astype(np.float32),
        y_test=y_test.astype(np.int64),
        num_classes=2,
        name="moons",
    )


def initialize_like_assignment(model: keras.Model, seed: int) -> None:
    """Sets every kernel to randn(fan_in, fan_out)/√fan_in, drawn layer by layer.

    The starter code draws W1 then W2 this way from NumPy's legacy generator
    right after ``np.random.seed(seed)``, so a one-hidden-layer network starts
    from exactly its weights. Biases stay at Keras' zeros, as in the assignment.
    """
    random = np.random.RandomState(seed)
    for layer in model.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is not None:
            fan_in = kernel.shape[0]
            kernel.assign(random.standard_normal(kernel.shape) / np.sqrt(fan_in))


def build_moons_model(config: MoonsConfig, dataset: Dataset) -> keras.Model:
    """The assignment's network: 2 inputs, ``config.hidden`` layers, 2-way softmax."""
    model = build_mlp(
        dataset.input_shape,
        config.hidden,
        dataset.num_classes,
        activation=config.activation,
        l2=config.l2,
        # Overwritten just below; zeros spare a random draw that would go unused.
        init="zeros",
        name="moons_mlp",
    )
    initialize_like_assignment(model, config.seed)
    return model


class DecisionBoundaryCallback(keras.callbacks.Callback):
    """Writes the decision regions over the training points every few epochs and at the end.

    Summaries go to ``<run_dir>/images`` at the training step reached (with a
    full batch: the passes made); ``<run_dir>/decision_boundary.png`` is
    rewritten each time, so the file left is the trained network's. Titles carry
    the full-batch training loss (regularization included), the number the
    assignment prints.
    """

    def __init__(
        self,
        run_dir: str | os.PathLike,
        x: np.ndarray,
        y: np.ndarray,
        every_epochs: int,
        description: str,
    ) -> None:
        """Initialises the callback.

        Args:
            run_dir: The run directory; the figures go to its root (Images tab).
            x: ``(n, 2)`` points drawn under the regions (the training set).
            y: Their labels.
            every_epochs: Write after every this many epochs; 0: about ten times
                per run, like the runner's other images.
            description: Start of each title, e.g. ``tanh 3``.
        """
        super().__init__()
        self.run_dir = Path(run_dir)
        self.x = x
        self.y = y
        self.every_epochs = every_epochs
        self.description = description
        self._last_epoch: int | None = None
        self._last_written: int | None = None

    def on_train_begin(self, logs=None) -> None:
        if self.every_epochs == 0:
            self.every_epochs = max(1, self.params["epochs"] // 10)

    def _predict(self, points: np.ndarray) -> np.ndarray:
        # A direct call: one eager forward pass over the 40k grid points,
        # cheaper than tracing a predict function inside fit.
        return keras.ops.convert_to_numpy(self.model(points, training=False))

    def _write(self, epoch: int) -> None:
        step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        loss = self.model.evaluate(
            self.x, self.y, batch_size=len(self.x), verbose=0, return_dict=True
        )["loss"]
        write_decision_boundary(
            self.run_dir,
            self._predict,
            self.x,
            self.y,
            step=step,
            png_dir=self.run_dir,
            tag=DECISION_BOUNDARY_TAG,
            title=f"{self.description}: training loss {loss:.4f} after {step} steps",
        )
        self._last_written = epoch

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self._last_epoch = epoch
        if (epoch + 1) % self.every_epochs == 0:
            self._write(epoch)

    def on_train_end(self, logs=None) -> None:
        if self._last_epoch is not None and self._last_written != self._last_epoch:
            self._write(self._last_epoch)


def describe(config: MoonsConfig) -> str:
    """``tanh 3`` or ``sigmoid 10-6-4-3-3``: activation and hidden widths."""
    return f"{config.activation} " + "-".join(str(width) for width in config.hidden)


def moons_callbacks(
    config: MoonsConfig, dataset: Dataset, run_dir: Path
) -> list[keras.callbacks.Callback]:
    """The decision-boundary writer for one run."""
    return [
        DecisionBoundaryCallback(
            run_dir, dataset.x_train, dataset.y_train, config.images_every, describe(config)
        )
    ]


MOONS = Experiment(
    load_data=lambda config: load_moons(config.samples, config.noise, config.seed),
    build_model=build_moons_model,
    embedding_layer="hidden1_act",
    extra_callbacks=moons_callbacks,
)


def run_moons(config: MoonsConfig, print_fn=print) -> dict:
    """Trains one moons network; returns ``results.json``'s content."""
    return run_experiment(MOONS, config, print_fn)
