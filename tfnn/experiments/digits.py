"""`tfnn train digits`: the CS-587 load_digits network."""

from __future__ import annotations

import keras

from tfnn.configs.digits import DigitsConfig
from tfnn.data.dataset import Dataset
from tfnn.data.digits import load_digits
from tfnn.experiments.spec import Experiment, run_experiment
from tfnn.models.mlp import build_mlp


def build_digits_model(config: DigitsConfig, dataset: Dataset) -> keras.Model:
    """The one-hidden-layer network of the assignment."""
    return build_mlp(
        dataset.input_shape,
        (config.hidden,),
        dataset.num_classes,
        activation=config.activation,
        l2=config.l2,
        init=config.init,
        init_std=config.init_std,
        name="digits_mlp",
    )


DIGITS = Experiment(
    load_data=lambda config: load_digits(config.split, config.seed),
    build_model=build_digits_model,
    embedding_layer="hidden1_act",
)


def run_digits(config: DigitsConfig, print_fn=print) -> dict:
    """Trains the digits network; returns ``results.json``'s content."""
    return run_experiment(DIGITS, config, print_fn)
