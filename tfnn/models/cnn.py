"""The 4-layer deep convolutional network of COMP 576 Assignment 1."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from tfnn.models.initializers import make_initializer
from tfnn.models.mlp import activation_layer


def build_cnn(
    input_shape: Sequence[int] = (28, 28, 1),
    num_classes: int = 10,
    activation: str = "relu",
    init: str = "glorot_uniform",
    init_std: float = 0.1,
    bias_init: float = 0.0,
    dropout_rate: float = 0.5,
) -> keras.Model:
    """conv 5x5x32 → pool 2x2 → conv 5x5x64 → pool 2x2 → dense 1024 → dropout → softmax.

    SAME padding as in the assignment. Activations are separate ``<layer>_act``
    layers so statistics see net inputs and activations; ``fc1_act`` is the
    1024-unit representation the t-SNE plots use.
    """

    def weights():
        return dict(
            kernel_initializer=make_initializer(init, init_std),
            bias_initializer=keras.initializers.Constant(bias_init),
        )

    inputs = keras.Input(shape=tuple(input_shape), name="images")
    x = layers.Conv2D(32, 5, padding="same", name="conv1", **weights())(inputs)
    x = activation_layer(activation, "conv1_act")(x)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(64, 5, padding="same", name="conv2", **weights())(x)
    x = activation_layer(activation, "conv2_act")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(1024, name="fc1", **weights())(x)
    x = activation_layer(activation, "fc1_act")(x)
    x = layers.Dropout(dropout_rate, name="dropout")(x)
    x = layers.Dense(num_classes, name="output", **weights())(x)
    outputs = layers.Activation("softmax", name="output_act", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="cnn")
