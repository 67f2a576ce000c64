"""`tfnn study NAME`: run a report's grid of experiments and summarise it.

A study is a function ``run(logdir, steps, seed, print_fn, **options) -> Path``
returning the study directory it wrote; ``options`` are its own flags'
values, by ``dest``. Add one to :data:`STUDIES`; its module is imported only
when it runs, so this file stays TensorFlow-free.
"""

from __future__ import annotations

import argparse
import importlib
from typing import NamedTuple

from tfnn.commands.autodiff import non_negative_int

COMMANDS = ("study",)


class Option(NamedTuple):
    """A study's own flag: ``add_argument(flag, *aliases, **kwargs)``; kwargs must name
    ``dest``. The library's errors name ``dest``, shown as ``--dest-with-dashes``: a
    flag spelt otherwise takes that spelling as an alias."""

    flag: str
    kwargs: dict
    aliases: tuple[str, ...] = ()


class Study(NamedTuple):
    help: str
    target: str  # "module:function"
    options: tuple[Option, ...] = ()
    steps_help: str = "training steps of every run (default: 0, each run's own budget)"


def comma_list(text: str) -> list[str]:
    """argparse type: ``a,b`` -> ``["a", "b"]``."""
    return [item for item in text.split(",") if item]


def _train_samples(default: int) -> Option:
    return Option(
        "--train-samples",
        dict(
            dest="train_samples",
            type=non_negative_int,
            default=default,
            help=f"use only the first N MNIST training images (default: {default}; 0: all "
            "60,000); a tenth of them is held out for validation (5,000 of all)",
        ),
    )


STUDIES: dict[str, Study] = {
    "moons": Study(
        "COMP 576 moons grid: decision boundaries of six networks and their final "
        "training losses next to the report's",
        "tfnn.studies.moons:run_study",
    ),
    "cnn-variants": Study(
        "COMP 576 MNIST CNN with one setting changed at a time (activation, init, "
        "optimizer): a table and a bar chart of the accuracies",
        "tfnn.studies.cnn_variants:run_study",
        (
            _train_samples(10_000),
            Option(
                "--only",
                dict(
                    dest="only",
                    action="append",
                    default=[],
                    metavar="AXIS[=VALUE,...]",
                    help="run just these variants, e.g. activation=relu,tanh or optimizer "
                    "(repeatable; default: every value of activation, init and optimizer)",
                ),
            ),
        ),
        steps_help="training steps of every run (default: 0, meaning 300)",
    ),
    "dnn-compare": Study(
        "EECE 8740 HW1: 784-150-120-10 vs 784-500-250-100-10 on MNIST, with REPORT.md "
        "and plots of curves, test numbers, times and parameter counts",
        "tfnn.studies.dnn_compare:run_study",
        (
            Option(
                "--epochs",
                dict(
                    dest="epochs",
                    type=non_negative_int,
                    default=50,
                    help="passes over the training set (default: 50, the report's)",
                ),
            ),
            _train_samples(0),
            Option(
                "--from",
                dict(
                    dest="from_runs",
                    type=comma_list,
                    default=[],
                    metavar="RUN_DIR,RUN_DIR",
                    help="report on two finished mnist-dnn runs instead of training",
                ),
                aliases=("--from-runs",),
            ),
        ),
        steps_help="training steps of each run, replacing --epochs (default: 0, use --epochs)",
    ),
}


def _epochs(default: int, note: str) -> Option:
    return Option(
        "--epochs",
        dict(
            dest="epochs",
            type=non_negative_int,
            default=default,
            help=f"passes over the training set (default: {default}, {note})",
        ),
    )


def _seeds(default: int) -> Option:
    return Option(
        "--seeds",
        dict(
            dest="seeds",
            type=non_negative_int,
            default=default,
            help=f"runs per config, seeds --seed, --seed+1, ... (default: {default})",
        ),
    )


def _resume() -> Option:
    return Option(
        "--resume",
        dict(
            dest="resume",
            default="",
            metavar="STUDY_DIR",
            help="continue an interrupted study in its directory: finished runs are "
            "reused, the rest are trained",
        ),
    )


def _only_axes(*axes: str) -> Option:
    return Option(
        "--only",
        dict(
            dest="only",
            action="append",
            default=[],
            choices=axes,
            help="run just this axis (repeatable; default: all of " + ", ".join(axes) + ")",
        ),
    )


STUDIES["vu-mlp"] = Study(
    "VU DL A2 MNIST MLP: sigmoid vs ReLU, hidden width x2/x4/x6 of 784, one vs two "
    "hidden layers; mean ± std over seeds next to the report's accuracies",
    "tfnn.studies.vu_mlp:run_study",
    (
        _epochs(20, "the report's"),
        _seeds(3),
        _train_samples(0),
        Option(
            "--learning-rate",
            dict(
                dest="learning_rate",
                type=float,
                default=0.1,
                help="plain SGD's step size (default: 0.1; the report does not state one)",
            ),
        ),
        _only_axes("activation", "width", "depth"),
        _resume(),
    ),
    steps_help="training steps of each run, replacing --epochs (default: 0, use --epochs)",
)
STUDIES["cifar"] = Study(
    "VU DL A2 CIFAR-10 blitz CNN: batch size, learning rate, Adam vs SGD; mean ± std "
    "over seeds next to the report's accuracies",
    "tfnn.studies.cifar:run_study",
    (
        _epochs(20, "the report's learning-rate study"),
        _seeds(1),
        Option(
            "--train-samples",
            dict(
                dest="train_samples",
                type=non_negative_int,
                default=0,
                help="use only the first N CIFAR-10 training images (default: 0, all "
                "50,000); a tenth of them is held out for validation (5,000 of all)",
            ),
        ),
        Option(
            "--data",
            dict(
                dest="data",
                default="",
                help="cifar-10-batches-py or a directory containing it (default: "
                "$TFNN_DATA_DIR, else Keras' download)",
            ),
        ),
        _only_axes("batch", "lr", "optimizer"),
        _resume(),
    ),
    steps_help="training steps of each run, replacing --epochs (default: 0, use --epochs)",
)


def add_parser(commands) -> None:
    """Adds `study` and one sub-command per entry of STUDIES."""
    study = commands.add_parser("study", help="run a report's grid of experiments, summarised")
    names = study.add_subparsers(dest="study", required=True, parser_class=type(study))
    for name, entry in STUDIES.items():
        sub = names.add_parser(name, help=entry.help, description=entry.help)
        sub.add_argument(
            "--logdir",
            default="logs",
            help="log root; the study goes to <logdir>/studies/<name>/<timestamp>/ (default: logs)",
        )
        sub.add_argument(
            "--steps",
            type=non_negative_int,
            default=0,
            help=entry.steps_help + "; small values make a quick check",
        )
        sub.add_argument("--seed", type=non_negative_int, default=0, help="seed of every run")
        for option in entry.options:
            sub.add_argument(option.flag, *option.aliases, **option.kwargs)


def run(args: argparse.Namespace) -> int:
    """Runs the chosen study; returns the exit code."""
    module_name, function_name = STUDIES[args.study].target.split(":")
    run_study = getattr(importlib.import_module(module_name), function_name)
    options = {
        option.kwargs["dest"]: getattr(args, option.kwargs["dest"])
        for option in STUDIES[args.study].options
    }
    study_dir = run_study(logdir=args.logdir, steps=args.steps, seed=args.seed, **options)
    print(f"study directory: {study_dir}")
    print(f"open TensorBoard: tfnn board --logdir {study_dir}")
    return 0
