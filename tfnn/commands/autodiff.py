"""`tfnn graphs` and `tfnn softplus-net`: the automatic-differentiation assignment.

TensorFlow-free at import: flags are checked while parsing, and the work
(:mod:`tfnn.autodiff`) is imported only when a command runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from pathlib import Path

from tfnn.results import command_line, library_versions, write_results
from tfnn.rundir import check_log_root, create_run_dir

COMMANDS = ("graphs", "softplus-net")

# Class k is the k-th ring from the centre (see tfnn.autodiff.circles).
SOFTPLUS_CLASS_NAMES = tuple(f"ring {index}" for index in range(5))


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

    given = {
        name: getattr(args, name)
        for name in ("epochs", "learning_rate", "hidden", "seed")
        if getattr(args, name) is not None
    }
    run_dir = train_softplus_net(SoftplusNetConfig(**given), args.logdir)
    print(f"run directory: {run_dir}  (results.json, PNGs, TensorBoard events)")
    print(f"open TensorBoard: tfnn board --logdir {run_dir}")
    return 0


def train_softplus_net(config, logdir: str, print_fn=print) -> Path:
    """Trains the 2-12-5 network; writes a run directory under ``logdir/softplus-net``.

    Args:
        config: A ``SoftplusNetConfig``.
        logdir: Log root.
        print_fn: Where the one-line summary goes.

    Returns:
        The run directory (``results.json``, PNGs, TensorBoard events).
    """
    from tfnn.autodiff.softplus_net import train

    # Checked before training so a bad --logdir costs nothing; the run directory
    # itself is made after training, so a diverged run leaves none behind.
    check_log_root(logdir)
    started = time.perf_counter()
    result = train(config)
    run_dir = create_run_dir(
        logdir,
        "softplus-net",
        f"h{config.hidden}-lr{config.learning_rate:g}-e{config.epochs}-seed{config.seed}",
    )
    write_softplus_logs(result, run_dir)
    results = softplus_results(result, run_dir, time.perf_counter() - started)
    write_results(run_dir, results)
    metrics = results["metrics"]
    print_fn(
        f"softplus-net 2-{config.hidden}-5: train accuracy {metrics['train_accuracy']:.4f}, "
        f"test accuracy {metrics['test_accuracy']:.4f}, test cross-entropy "
        f"{metrics['test_cross_entropy']:.4f}, {config.epochs} epochs in "
        f"{result.training_seconds:.1f} s"
    )
    return run_dir


def write_softplus_logs(result, run_dir: Path) -> None:
    """The run as TensorBoard sees it: loss curve, accuracies, HParams and two images.

    ``train/epoch_loss`` at step k is the training cross-entropy after k descent
    steps (step 0: the initial weights); ``test/epoch_loss`` and the accuracies
    are written once, at the last step, as the report measures them.
    """
    import tensorflow as tf

    from tfnn.tensorboard.hparams import write_config, write_final_metrics
    from tfnn.tensorboard.images import write_confusion_matrix, write_decision_boundary
    from tfnn.tensorboard.scalars import RunWriters

    config, dataset = result.config, result.dataset
    writers = RunWriters(run_dir)
    write_config(
        writers, {"experiment": "softplus-net", **dataclasses.asdict(config)}, run_dir.name
    )
    with writers["train"].as_default():
        for step, loss in enumerate(result.loss_history):
            tf.summary.scalar("epoch_loss", float(loss), step=step)
        tf.summary.scalar("epoch_loss", result.train_cross_entropy, step=config.epochs)
        tf.summary.scalar("epoch_accuracy", result.train_accuracy, step=config.epochs)
    with writers["test"].as_default():
        tf.summary.scalar("epoch_loss", result.test_cross_entropy, step=config.epochs)
        tf.summary.scalar("epoch_accuracy", result.test_accuracy, step=config.epochs)
    write_final_metrics(writers, softplus_metrics(result), step=config.epochs)
    writers.close()

    images = run_dir / "images"
    write_confusion_matrix(
        images,
        dataset.y_test,
        result.predict(dataset.x_test),
        SOFTPLUS_CLASS_NAMES,
        step=config.epochs,
        png_dir=run_dir,
    )
    write_decision_boundary(
        images,
        result.predict_probabilities,
        dataset.x_train,
        dataset.y_train,
        step=config.epochs,
        png_dir=run_dir,
        title=f"2-{config.hidden}-5 softplus network, {config.epochs} epochs: training points",
    )


def softplus_metrics(result) -> dict[str, float]:
    """The four numbers the report gives for the trained network."""
    return {
        "train_cross_entropy": result.train_cross_entropy,
        "train_accuracy": result.train_accuracy,
        "test_cross_entropy": result.test_cross_entropy,
        "test_accuracy": result.test_accuracy,
    }


def softplus_results(result, run_dir: Path, wall_time: float) -> dict:
    """``results.json`` of a softplus-net run."""
    from tfnn.autodiff.softplus_net import parameter_count

    config, history = result.config, result.loss_history
    return {
        "experiment": "softplus-net",
        "run_dir": str(run_dir),
        "command": command_line(),
        "config": dataclasses.asdict(config),
        "seed": config.seed,
        "versions": library_versions(),
        "parameters": parameter_count(result.parameters),
        "train_samples": len(result.dataset.x_train),
        "test_samples": len(result.dataset.x_test),
        "status": "finished",
        "metrics": softplus_metrics(result),
        "initial_loss": float(history[0]),
        # Every 100th step keeps the file short; TensorBoard has every step.
        "loss_every_100_epochs": [round(float(loss), 6) for loss in history[::100]],
        "confusion_matrix": result.confusion_matrix.tolist(),
        "train_time_s": round(result.training_seconds, 3),
        "wall_time_s": round(wall_time, 3),
    }
