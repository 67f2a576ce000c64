"""Fully connected networks: load_digits, MNIST dense nets, moons."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from tfnn.models.initializers import make_initializer


def activation_layer(name: str, layer_name: str) -> layers.Layer:
    """An activation in its own layer; ``leaky_relu`` uses Keras' default slope."""
    return layers.Activation(name, name=layer_name)


def build_mlp(
    input_shape: Sequence[int],
    hidden_units: Sequence[int],
    num_classes: int,
    activation: str = "relu",
    l2: float = 0.0,
    init: str = "glorot_uniform",
    init_std: float = 0.01,
    dropout_rate: float = 0.0,
    name: str = "mlp",
) -> keras.Model:
    """Input → flatten → (dense → activation [→ dropout]) × k → dense → softmax.

    Args:
        input_shape: Shape of one sample; images are flattened.
        hidden_units: Width of each hidden layer, e.g. ``(150, 120)``.
        num_classes: Output units.
        activation: Hidden activation name understood by Keras.
        l2: L2 strength on every kernel; 0 disables it.
        init: Kernel initializer name (see ``make_initializer``).
        init_std: Standard deviation for the normal initializers.
        dropout_rate: Dropout after each hidden activation; 0 disables it.
        name: Model name (appears in the op graph).

    Returns:
        An uncompiled ``keras.Model`` whose output is class probabilities.
    """
    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    for index, units in enumerate(hidden_units, start=1):
        x = layers.Dense(
            units,
            kernel_initializer=make_initializer(init, init_std),
            kernel_regularizer=regularizer,
            name=f"hidden{index}",
        )(x)
        x = activation_layer(activation, f"hidden{index}_act")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name=f"hidden{index}_dropout")(x)
    x = layers.Dense(
        num_classes,
        kernel_initializer=make_initializer(init, init_std),
        kernel_regularizer=regularizer,
        name="output",
    )(x)
    outputs = layers.Activation("softmax", name="output_act", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)
