"""One logged run of the 2-12-5 softplus network: train, then write TensorBoard logs,
PNGs and ``results.json`` into a fresh run directory (what `tfnn softplus-net` does).

:mod:`tfnn.autodiff.softplus_net` trains the network and returns its numbers; this
module only records them.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import tensorflow as tf

from tfnn.autodiff.softplus_net import SoftplusNetConfig, SoftplusNetResult, parameter_count, train
from tfnn.results import command_line, library_versions, write_results
from tfnn.rundir import check_log_root, create_run_dir
from tfnn.tensorboard.hparams import write_config
from tfnn.tensorboard.images import write_confusion_matrix, write_decision_boundary
from tfnn.tensorboard.writers import RunWriters

# Class k is the k-th ring from the centre (see tfnn.autodiff.circles).
SOFTPLUS_CLASS_NAMES = tuple(f"ring {index}" for index in range(5))


def train_softplus_net(
    config: SoftplusNetConfig, logdir: str, print_fn: Callable[[str], None] = print
) -> Path:
    """Trains the 2-12-5 network; writes a run directory under ``logdir/softplus-net``.

    Args:
        config: The network's settings.
        logdir: Log root.
        print_fn: Where the one-line summary goes. Defaults to ``print``.

    Returns:
        The run directory (``results.json``, PNGs, TensorBoard events).
    """
    # Checked before training so a bad logdir costs nothing; the run directory
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


def write_softplus_logs(result: SoftplusNetResult, run_dir: Path) -> None:
    """The run as TensorBoard sees it: loss curve, accuracies, HParams and two images.

    ``train/epoch_loss`` at step k is the training cross-entropy after k descent
    steps (step 0: the initial weights); ``test/epoch_loss`` and the accuracies
    are written once, at the last step, as the report measures them.
    """
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
    writers.close()

    write_confusion_matrix(
        run_dir,
        dataset.y_test,
        result.predict(dataset.x_test),
        SOFTPLUS_CLASS_NAMES,
        step=config.epochs,
        png_dir=run_dir,
    )
    write_decision_boundary(
        run_dir,
        result.predict_probabilities,
        dataset.x_train,
        dataset.y_train,
        step=config.epochs,
        png_dir=run_dir,
        title=f"2-{config.hidden}-5 softplus network, {config.epochs} epochs: training points",
    )


def softplus_metrics(result: SoftplusNetResult) -> dict[str, float]:
    """The four numbers the report gives for the trained network."""
    return {
        "train_cross_entropy": result.train_cross_entropy,
        "train_accuracy": result.train_accuracy,
        "test_cross_entropy": result.test_cross_entropy,
        "test_accuracy": result.test_accuracy,
    }


def softplus_results(result: SoftplusNetResult, run_dir: Path, wall_time: float) -> dict:
    """``results.json`` of a softplus-net run."""
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
