"""`tfnn launch --workers N -- train EXPERIMENT ...`: one multi-worker job on this machine.

The training command line is checked here, before any worker starts (and
without TensorFlow), so a typo costs one line, not N tracebacks.
"""

from __future__ import annotations

import argparse

from tfnn.configs.validation import check_int
from tfnn.errors import ConfigError

COMMANDS = ("launch",)
# The launcher only starts processes; each worker imports TensorFlow itself.
NEEDS_TENSORFLOW = False
MAX_WORKERS = 64


def add_parser(commands) -> None:
    """Adds `launch` to the `tfnn` subcommands."""
    launch = commands.add_parser(
        "launch",
        help="run a `tfnn train ...` command as N multi-worker processes on 127.0.0.1",
        description="Starts N processes of the training command after `--`, each with a "
        "generated TF_CONFIG (free ports on 127.0.0.1, worker0 is the chief) and "
        "--strategy multiworker; prints their output prefixed [workerI] and stops them "
        "all if one fails. Example: tfnn launch --workers 2 -- train digits --epochs 5",
    )
    launch.add_argument(
        "--workers", type=int, default=2, help="worker processes (default: 2)", metavar="N"
    )
    launch.add_argument(
        "command_line",
        nargs=argparse.REMAINDER,
        help="-- train EXPERIMENT [flags]: the training command each worker runs",
    )


def training_command(argv: list[str]) -> list[str]:
    """The checked ``train ...`` command line, with ``--strategy multiworker`` added.

    Raises:
        ConfigError: Not a training command, or one asking for another strategy.
    """
    from tfnn.cli import build_parser
    from tfnn.cli_flags import config_from_args
    from tfnn.experiments.registry import EXPERIMENTS

    argv = argv[1:] if argv[:1] == ["--"] else argv
    if argv[:1] != ["train"]:
        raise ConfigError(
            "launch needs a training command after `--`, e.g. "
            "`tfnn launch --workers 2 -- train digits --epochs 5`"
        )
    args = build_parser().parse_args(argv)  # bad flags: one line, exit code 2
    config_class, presets, _ = EXPERIMENTS[args.experiment]
    if args.resume:
        from tfnn.commands.resume import config_to_resume

        config, _ = config_to_resume(args, config_class)
        if config.strategy != "multiworker":
            raise ConfigError(
                f"--resume {args.resume!r} was trained with --strategy {config.strategy}, "
                "not multiworker: resume it with `tfnn train ... --resume` instead"
            )
        return argv
    config = config_from_args(config_class, args, presets)
    if args.strategy is None:
        return [*argv, "--strategy", "multiworker"]
    if config.strategy != "multiworker":
        raise ConfigError(
            f"--strategy {config.strategy} is not allowed with launch: its workers train "
            "with --strategy multiworker (drop the flag)"
        )
    return argv


def run(args: argparse.Namespace) -> int:
    """Checks the training command, then runs the workers until all have finished."""
    check_int("workers", args.workers, maximum=MAX_WORKERS)
    argv = training_command(args.command_line)
    from tfnn.distribute.launch import launch_training

    seconds = launch_training(argv, args.workers)
    print(
        f"all {args.workers} workers finished in {seconds:.1f} s; the chief's run "
        "directory holds the logs (see [worker0] above)"
    )
    return 0
