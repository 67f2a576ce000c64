"""`tfnn train mnist-dnn` and `tfnn train cnn`: MNIST through the shared loader and runner."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import keras
import numpy as np

from tfnn.configs.mnist import CnnConfig, MnistConfig, MnistDnnConfig
from tfnn.data.dataset import Dataset
from tfnn.data.mnist import load_mnist
from tfnn.experiments.spec import Experiment
from tfnn.models.cnn import build_cnn
from tfnn.models.mlp import build_mlp
from tfnn.tensorboard.projector import projector_dir, tsne_tag, write_embedding, write_tsne


def load_mnist_for(config: MnistConfig, channels: bool = False) -> Dataset:
    """MNIST from ``--data``/``TFNN_DATA_DIR``/download, optionally cut to ``train_samples``."""
    dataset = load_mnist(config.data or None)
    if config.train_samples:
        dataset = dataset.subset(train=config.train_samples)
    if channels:
        # Conv layers want (28, 28, 1); image_shape stays (28, 28) for sprites and grids.
        dataset = dataclasses.replace(
            dataset, x_train=dataset.x_train[..., None], x_test=dataset.x_test[..., None]
        )
    return dataset


def build_dense(config: MnistDnnConfig, dataset: Dataset) -> keras.Model:
    return build_mlp(
        dataset.input_shape,
        config.arch,
        dataset.num_classes,
        activation=config.activation,
        l2=config.l2,
        init=config.init,
        init_std=config.init_std,
        dropout_rate=config.dropout,
        name="mnist_dnn",
    )


def build_convolutional(config: CnnConfig, dataset: Dataset) -> keras.Model:
    return build_cnn(
        dataset.input_shape,
        dataset.num_classes,
        activation=config.activation,
        init=config.init,
        init_std=config.init_std,
        bias_init=config.bias_init,
        dropout_rate=config.dropout,
    )


class FcWeightsEmbedding(keras.callbacks.Callback):
    """After training: fc1's units as points, each its vector of 3,136 incoming weights.

    A unit is labelled with the digit its outgoing weights favour most (argmax of
    its row in the output layer's kernel), so the Projector and the t-SNE plot
    show whether units that serve the same digit learned similar input filters.
    Written beside the run's other embedding (``fc1_weights`` in the Projector) and
    as ``tsne_fc1_weights.png``.
    """

    def __init__(self, run_dir: Path, seed: int):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.seed = seed

    def on_train_end(self, logs=None):
        incoming = np.asarray(self.model.get_layer("fc1").kernel).T
        if not np.isfinite(incoming).all():
            return  # training diverged
        preferred_digit = np.argmax(np.asarray(self.model.get_layer("output").kernel), axis=1)
        write_embedding(projector_dir(self.run_dir), incoming, preferred_digit, name="fc1_weights")
        write_tsne(
            self.run_dir,
            incoming,
            preferred_digit,
            self.run_dir / "tsne_fc1_weights.png",
            tag=tsne_tag("fc1_weights"),
            seed=self.seed,
        )


def cnn_callbacks(config: CnnConfig, dataset: Dataset, run_dir: Path) -> list:
    """The FC-weights embedding, when embeddings are asked for at all."""
    return [FcWeightsEmbedding(run_dir, config.seed)] if config.embedding_samples else []


MNIST_DNN = Experiment(
    load_data=load_mnist_for,
    build_model=build_dense,
    embedding_layer=None,
)

CNN = Experiment(
    load_data=lambda config: load_mnist_for(config, channels=True),
    build_model=build_convolutional,
    embedding_layer="fc1_act",
    extra_callbacks=cnn_callbacks,
)
