"""`tfnn train digits`: the CS-587 load_digits network."""

from __future__ import annotations

from tfnn.configs.digits import DigitsConfig
from tfnn.data.digits import load_digits
from tfnn.models.mlp import build_mlp
from tfnn.rundir import create_run_dir
from tfnn.training.runner import train_classifier


def run_digits(config: DigitsConfig, print_fn=print) -> dict:
    """Trains the one-hidden-layer digits network; returns ``results.json``'s content."""
    run_dir = create_run_dir(config.logdir, config.experiment, config.short_name())
    dataset = load_digits(config.split, config.seed)

    def build():
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

    return train_classifier(config, dataset, build, run_dir, print_fn=print_fn)
