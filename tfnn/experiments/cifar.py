"""`tfnn train cifar10`: the PyTorch "60-minute blitz" CNN in Keras."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from tfnn.configs.cifar import Cifar10Config
from tfnn.data.cifar10 import load_cifar10
from tfnn.data.dataset import Dataset
from tfnn.experiments.spec import Experiment


def build_blitz_cnn(input_shape: Sequence[int] = (32, 32, 3), num_classes: int = 10) -> keras.Model:
    """conv 5x5x6 → pool 2 → conv 5x5x16 → pool 2 → dense 120 → dense 84 → softmax.

    VALID padding as in the tutorial (32 → 28 → 14 → 10 → 5). Activations are
    separate ``<layer>_act`` layers so layer statistics see net inputs and
    activations apart; ``fc2_act`` is the 84-unit representation.
    """
    inputs = keras.Input(shape=tuple(input_shape), name="images")
    x = layers.Conv2D(6, 5, name="conv1")(inputs)
    x = layers.Activation("relu", name="conv1_act")(x)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(16, 5, name="conv2")(x)
    x = layers.Activation("relu", name="conv2_act")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(120, name="fc1")(x)
    x = layers.Activation("relu", name="fc1_act")(x)
    x = layers.Dense(84, name="fc2")(x)
    x = layers.Activation("relu", name="fc2_act")(x)
    x = layers.Dense(num_classes, name="output")(x)
    outputs = layers.Activation("softmax", name="output_act", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="blitz_cnn")


def load_cifar10_for(config: Cifar10Config) -> Dataset:
    """CIFAR-10 from ``--data``/``TFNN_DATA_DIR``/download, optionally cut to ``train_samples``."""
    dataset = load_cifar10(config.data or None)
    if config.train_samples:
        dataset = dataset.subset(train=config.train_samples)
    return dataset


CIFAR10 = Experiment(
    load_data=load_cifar10_for,
    build_model=lambda config, dataset: build_blitz_cnn(dataset.input_shape, dataset.num_classes),
    embedding_layer="fc2_act",
)
