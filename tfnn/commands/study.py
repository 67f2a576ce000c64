"""`tfnn study NAME`: run a report's grid of experiments and summarise it.

A study is a function ``run(logdir, steps, seed, print_fn) -> Path`` returning
the study directory it wrote. Add one to :data:`STUDIES`; its module is
imported only when it runs, so this file stays TensorFlow-free.
"""

from __future__ import annotations

import argparse
import importlib
from typing import NamedTuple

from tfnn.commands.autodiff import non_negative_int

COMMANDS = ("study",)


class Study(NamedTuple):
    help: str
    target: str  # "module:function"


STUDIES: dict[str, Study] = {
    "moons": Study(
        "COMP 576 moons grid: decision boundaries of six networks and their final "
        "training losses next to the report's",
        "tfnn.studies.moons:run_study",
    ),
}


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
            help="training steps of every run (default: 0, each run's own budget); "
            "small values make a quick check",
        )
        sub.add_argument("--seed", type=non_negative_int, default=0, help="seed of every run")


def run(args: argparse.Namespace) -> int:
    """Runs the chosen study; returns the exit code."""
    module_name, function_name = STUDIES[args.study].target.split(":")
    run_study = getattr(importlib.import_module(module_name), function_name)
    study_dir = run_study(logdir=args.logdir, steps=args.steps, seed=args.seed)
    print(f"study directory: {study_dir}")
    print(f"open TensorBoard: tfnn board --logdir {study_dir}")
    return 0
