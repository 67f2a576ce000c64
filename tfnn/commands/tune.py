"""`tfnn tune EXPERIMENT`: random hyperparameter search with keras-tuner.

Flags come from :class:`tfnn.configs.tune.TuneConfig` and are validated while
parsing, so a bad value costs no TensorFlow import.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing

from tfnn.cli import OneLineParser
from tfnn.cli_flags import PARSERS
from tfnn.configs.tune import TUNE_EXPERIMENTS, TuneConfig
from tfnn.configs.validation import flag
from tfnn.errors import ConfigError
from tfnn.tuning import compile_cache
from tfnn.tuning.project import ended_trial_ids, prepare_project

COMMANDS = ("tune",)

# Flags that only one experiment has.
EXPERIMENT_ONLY = {"split": "digits", "data": "mnist-dnn", "train_samples": "mnist-dnn"}
EXPERIMENT_HELP = {
    "digits": "the CS-587 load_digits network: hidden units, activation, optimizer, "
    "learning rate, L2, batch size, epochs",
    "mnist-dnn": "dense MNIST networks: 1-3 layers and widths, activation, dropout, "
    "optimizer, learning rate, L2, batch size, epochs",
}


class TuneParser(OneLineParser):
    """Builds and validates the TuneConfig as part of parsing (one line, exit code 2)."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        values = {
            field.name: getattr(namespace, field.name)
            for field in dataclasses.fields(TuneConfig)
            if getattr(namespace, field.name, None) is not None
        }
        try:
            namespace.tune_config = TuneConfig(**values)
        except ConfigError as error:
            self.exit(2, f"tfnn: error: {error.with_flags()}\n")
        return namespace, extras


def _add_flags(parser: argparse.ArgumentParser, experiment: str) -> None:
    hints = typing.get_type_hints(TuneConfig)
    parser.set_defaults(experiment=experiment)
    for field in dataclasses.fields(TuneConfig):
        if field.name == "experiment" or EXPERIMENT_ONLY.get(field.name, experiment) != experiment:
            continue
        help_text = field.metadata["help"]
        if hints[field.name] is bool:
            parser.add_argument(flag(field.name), action="store_true", default=None, help=help_text)
            continue
        parser.add_argument(
            flag(field.name),
            type=PARSERS[hints[field.name]],
            default=None,
            metavar=field.name.upper(),
            # An empty default means "derived" (the help says from what).
            help=f"{help_text} (default: {field.default!r})" if field.default != "" else help_text,
        )


def add_parser(commands) -> None:
    """Adds `tune` and its experiments to the `tfnn` subcommands."""
    tune = commands.add_parser(
        "tune",
        help="random hyperparameter search (keras-tuner) with TensorBoard HParams",
        description="keras-tuner RandomSearch; the same command continues a killed search. "
        "Writes best.json and best.md into the project directory.",
    )
    experiments = tune.add_subparsers(dest="experiment", required=True, parser_class=TuneParser)
    for experiment in TUNE_EXPERIMENTS:
        _add_flags(experiments.add_parser(experiment, help=EXPERIMENT_HELP[experiment]), experiment)


def run(args: argparse.Namespace) -> int:
    """Runs or continues the search, then retrains and reports the best configuration."""
    config: TuneConfig = args.tune_config
    # Before TensorFlow's runtime starts (its first op reads the XLA flags).
    compile_cache.enable()
    resuming = prepare_project(config)
    project = config.project_path
    ended_before = ended_trial_ids(project)
    print(
        f"{'continuing' if resuming else 'starting'} a {config.trials}-trial random search "
        f"of {config.experiment} in {project} ({len(ended_before)} trials already ended)",
        flush=True,
    )
    from tfnn.tuning.search import run_search

    run_search(config, ended_before)
    print(
        f"written: {project / 'best.json'}, {project / 'best.md'}, {project / 'best_model.keras'}"
    )
    print(f"open TensorBoard: tfnn board --logdir {project / 'tensorboard'}")
    return 0
