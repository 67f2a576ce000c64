"""`tfnn graphs` and `tfnn softplus-net`: the automatic-differentiation assignment.

TensorFlow-free at import: flags are checked while parsing, and the work
(:mod:`tfnn.autodiff`, :mod:`tfnn.autodiff.softplus_run`) is imported only when a
command runs.
"""

from __future__ import annotations

import argparse
import math

from tfnn.rundir import create_run_dir

COMMANDS = ("graphs", "softplus-net")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: must be an integer >= 1")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: must be an integer >= 0")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{value:g} is not allowed: must be a finite number > 0")
    return value


def add_parser(commands) -> None:
    """Adds `graphs` and `softplus-net` to the `tfnn` subcommands."""
    graphs = commands.add_parser(
        "graphs",
        help="write the op graph of every autodiff function and print the gradient checks",
        description="Writes each function's graph to <logdir>/graphs/<run>/<function>/ and "
        "prints hand-derived vs tf.GradientTape vs finite-difference derivatives.",
    )
    graphs.add_argument("--logdir", default="logs", help="log root (default: logs)")
    graphs.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        help="seed of the random tensors the tensor rules are checked on (default: 0)",
    )

    # Defaults are None so SoftplusNetConfig (which imports TensorFlow) keeps them.
    net = commands.add_parser(
        "softplus-net",
        help="train the 2-12-5 softplus network with hand-written backprop",
        description="Full-batch steepest descent on the concentric-rings data set; writes "
        "the loss curve, accuracies, confusion matrix and decision boundary to "
        "<logdir>/softplus-net/<run>/.",
    )
    net.add_argument(
        "--epochs", type=positive_int, help="full-batch descent steps (default: 1000, the report's)"
    )
    net.add_argument(
        "--learning-rate",
        type=positive_float,
        help="step of steepest descent (default: 0.1, the report's)",
    )
    net.add_argument("--hidden", type=positive_int, help="softplus units (default: 12)")
    net.add_argument(
        "--seed", type=non_negative_int, help="seed of the data and the weights (default: 0)"
    )
    net.add_argument("--logdir", default="logs", help="log root (default: logs)")


def run(args: argparse.Namespace) -> int:
    """Runs `tfnn graphs` or `tfnn softplus-net`; returns the exit code."""
    if args.command == "graphs":
        return run_graphs(args.logdir, args.seed)
    return run_softplus_net(args)


def run_graphs(logdir: str, seed: int = 0) -> int:
    """Writes the graphs into a fresh run directory and prints the check table.

    Returns:
        0 when every derivative agrees, 1 otherwise.
    """
    from tfnn.autodiff.checks import DEFAULT_TOLERANCE
    from tfnn.autodiff.graphs import run_graphs as write_graphs_and_check

    run_dir = create_run_dir(logdir, "graphs", f"seed{seed}")
    rows = write_graphs_and_check(run_dir, seed=seed, echo=True)
    failed = [row for row in rows if not row.passed()]
    print(
        f"\n{len(rows) - len(failed)} of {len(rows)} derivatives agree (hand, tape, finite "
        f"differences) to relative error {DEFAULT_TOLERANCE:g}"
    )
    for row in failed:
        print(f"MISMATCH: {row.function} d/d{row.variable} at {row.point}")
    print(f"graphs: {run_dir}/<function>/  (one TensorBoard run per function)")
    print(f"open TensorBoard: tfnn board --logdir {run_dir}")
    return 1 if failed else 0


def run_softplus_net(args: argparse.Namespace) -> int:
    """Trains the 2-12-5 network and writes its TensorBoard logs, PNGs and results.json."""
    from tfnn.autodiff.softplus_net import SoftplusNetConfig
    from tfnn.autodiff.softplus_run import train_softplus_net

    given = {
        name: getattr(args, name)
        for name in ("epochs", "learning_rate", "hidden", "seed")
        if getattr(args, name) is not None
    }
    run_dir = train_softplus_net(SoftplusNetConfig(**given), args.logdir)
    print(f"run directory: {run_dir}  (results.json, PNGs, TensorBoard events)")
    print(f"open TensorBoard: tfnn board --logdir {run_dir}")
    return 0
