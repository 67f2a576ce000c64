"""`tfnn reproduce`: run every seed report's experiments and write REPORT.md, theirs vs ours.

TensorFlow-free at import; ``--only`` names are checked while parsing.
"""

from __future__ import annotations

import argparse

from tfnn.errors import ConfigError
from tfnn.reproduce.sections import PARTS, REPORTS, select_parts

COMMANDS = ("reproduce",)


def part_names(text: str) -> list[str]:
    """argparse type: a comma list of report or part names, checked."""
    try:
        select_parts([text])
    except ConfigError as error:
        # argparse names the flag itself: "argument --only: 'x' is not allowed ...".
        raise argparse.ArgumentTypeError(error.with_flags().removeprefix("--only ")) from None
    return [name for name in text.split(",") if name]


def add_parser(commands) -> None:
    """Adds `reproduce` to the `tfnn` subcommands."""
    parts = ", ".join(part.name for part in PARTS if part.name not in REPORTS)
    reproduce = commands.add_parser(
        "reproduce",
        help="run every seed report's experiments and write REPORT.md: theirs vs ours",
        description="Runs the five reports' experiments with their settings into "
        "<logdir>/reproduce/<timestamp>-<full|quick>/ and writes REPORT.md there: per "
        "report a table 'report says | we measured | settings | command' and the figures.",
    )
    reproduce.add_argument(
        "--quick",
        action="store_true",
        help="reduced budgets (a smoke check of about 10 minutes; REPORT.md says so)",
    )
    reproduce.add_argument(
        "--only",
        action="append",
        default=[],
        type=part_names,
        metavar="NAME[,NAME...]",
        help="run just these reports ("
        + ", ".join(REPORTS)
        + ") or parts ("
        + parts
        + "); repeatable",
    )
    reproduce.add_argument(
        "--resume",
        metavar="DIR",
        help="continue the reproduction in DIR, skipping the parts it has recorded",
    )
    reproduce.add_argument(
        "--logdir",
        default="logs",
        help="log root; a new reproduction goes to <logdir>/reproduce/ (default: logs)",
    )


def run(args: argparse.Namespace) -> int:
    """Runs the chosen parts and writes the report; returns the exit code."""
    from tfnn.reproduce.report import REPORT, reproduce

    only = [name for names in args.only for name in names]
    out_dir = reproduce(args.logdir, args.quick, only, args.resume)
    print(f"report: {out_dir / REPORT}")
    print(f"open TensorBoard: tfnn board --logdir {out_dir}")
    return 0
