"""`tfnn train mnist-dnn` and `tfnn train cnn`: MNIST through the shared loader and runner."""

from __future__ import annotations

import dataclasses

import keras

from tfnn.configs.mnist import CnnConfig, MnistConfig, MnistDnnConfig
from tfnn.data.dataset import Dataset
from tfnn.data.mnist import load_mnist
from tfnn.experiments.spec import Experiment
from tfnn.models.cnn import build_cnn
from tfnn.models.mlp import build_mlp


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


MNIST_DNN = Experiment(
    load_data=load_mnist_for,
    build_model=build_dense,
    embedding_layer=None,
)

CNN = Experiment(
    load_data=lambda config: load_mnist_for(config, channels=True),
    build_model=build_convolutional,
    embedding_layer="fc1_act",
)
