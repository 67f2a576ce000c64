"""The training runner: compile, fit with TensorBoard instrumentation, evaluate, record.

Every ``tfnn train ...`` experiment calls :func:`train_classifier` with its
config, data and model builder; nothing here is specific to one experiment.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np

from tfnn.configs.common import TrainConfig
from tfnn.data.dataset import Dataset
from tfnn.distribute.launch import RUN_DIR_PREFIX
from tfnn.distribute.strategy import (
    fit_settings,
    is_chief,
    is_multiworker,
    make_strategy,
    precision_policy,
    print_setup,
)
from tfnn.errors import TrainingDiverged
from tfnn.results import command_line, library_versions, read_results, write_results
from tfnn.tensorboard.graph_logger import GraphLogger
from tfnn.tensorboard.hparams import write_config, write_final_metrics
from tfnn.tensorboard.images import ConfusionMatrixCallback
from tfnn.tensorboard.projector import write_layer_embedding
from tfnn.tensorboard.scalars import RunWriters, ScalarLogger
from tfnn.tensorboard.stats import LayerStatistics
from tfnn.training.backup import EpochBackup, backed_up_epoch
from tfnn.training.callbacks import (
    EpochTimer,
    ProgressPrinter,
    ResultsProgress,
    StopOnInterrupt,
    StopOnNaN,
)
from tfnn.training.compile import compile_model
from tfnn.training.seeding import seed_everything
from tfnn.training.streams import EVALUATION_BATCH_SIZE, make_dataset, make_training_stream
from tfnn.training.validation import EpochValidation

PROBE_SAMPLES = 256


def default_images_every(epochs: int) -> int:
    """Epochs between two drawings of the figures in an ``epochs``-epoch run when
    ``--images-every`` is 0: about ten times per run."""
    return max(1, epochs // 10)


def plan_steps(
    config: TrainConfig, train_samples: int, batch_size: int | None = None
) -> tuple[int, int]:
    """(epochs, steps per epoch): whole passes, or the ``--steps`` budget cut into
    equal epochs of at most one pass each (exact when the budget divides evenly).
    ``batch_size`` is the global batch (default: ``config.batch_size``)."""
    steps_per_pass = math.ceil(train_samples / (batch_size or config.batch_size))
    if config.steps <= 0:
        return config.epochs, steps_per_pass
    # A config may ask for longer epochs: with a full batch (moons) a pass is one
    # step, and one-step epochs would spend the run in per-epoch evaluation and callbacks.
    epoch_length = max(steps_per_pass, getattr(config, "steps_per_epoch", 0))
    epochs = math.ceil(config.steps / epoch_length)
    return epochs, math.ceil(config.steps / epochs)


def image_view(x: np.ndarray, image_shape: tuple[int, ...] | None) -> np.ndarray | None:
    """Inputs reshaped to displayable images, or None when they are not images."""
    if image_shape is None:
        return None
    return x.reshape((len(x), *image_shape))


def _model_summary(model: keras.Model) -> str:
    buffer = io.StringIO()
    model.summary(print_fn=lambda line, **_: buffer.write(line + "\n"))
    return buffer.getvalue()


def train_classifier(
    config: TrainConfig,
    dataset: Dataset,
    build_model: Callable[[], keras.Model],
    run_dir: Path,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    embedding_layer: str | None = None,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    print_fn: Callable[..., None] = print,
) -> dict:
    """Trains a softmax classifier and writes its TensorBoard logs and ``results.json``.

    ``config.strategy`` picks the ``tf.distribute`` strategy (``tfnn.distribute``):
    the model is built and compiled in its scope, a step takes ``batch_size``
    samples per replica, and ``multiworker`` runs train with tfnn's own loop;
    only the chief writes into ``run_dir``.

    A run killed at any point continues from its last finished epoch when
    called again with the same ``run_dir`` (Keras' ``BackupAndRestore`` in
    ``run_dir/backup``); summaries are flushed only at epoch ends, so the
    resumed curves have neither gaps nor duplicated steps.

    Args:
        config: The experiment's config; common fields come from ``TrainConfig``.
        dataset: Train/test arrays. Without ``validation`` the test set gives
            the per-epoch curves (as the seed reports plot them); the reported
            numbers always come from one final evaluation.
        build_model: Returns an uncompiled Keras model; called after seeding.
        run_dir: A fresh directory from ``tfnn.rundir.create_run_dir``, or the
            directory of an interrupted run to resume.
        validation: Held-out training samples for the per-epoch curves.
        embedding_layer: Layer whose activations on test samples go to the
            Projector and a t-SNE plot after training.
        extra_callbacks: Experiment-specific callbacks.
        print_fn: Where progress lines go.

    Returns:
        The content of ``results.json``.

    Raises:
        TrainingDiverged: The loss became NaN/Inf; logs and results are kept.
        KeyboardInterrupt: Re-raised after marking the results ``interrupted``.
    """
    started = time.perf_counter()
    # --- tf.distribute (tfnn/distribute): the strategy comes first (collectives are set
    # up when TensorFlow starts); a step takes --batch-size samples per replica.
    strategy = make_strategy(config)
    multiworker, chief = is_multiworker(strategy), is_chief(strategy)
    if chief:
        print_setup(strategy, config, print_fn)
    if multiworker and chief:
        print_fn(f"{RUN_DIR_PREFIX}{run_dir}", flush=True)
    global_batch_size = config.batch_size * strategy.num_replicas_in_sync
    seed_everything(config.seed, config.deterministic)
    epochs, steps_per_epoch = plan_steps(config, len(dataset.x_train), global_batch_size)
    with strategy.scope(), precision_policy(config):
        model = compile_model(build_model(), fit_settings(config, strategy), steps_per_epoch)
    # --- end tf.distribute
    (run_dir / "model.txt").write_text(_model_summary(model))

    first_epoch = backed_up_epoch(run_dir)
    train_data = make_training_stream(
        dataset.x_train,
        dataset.y_train,
        global_batch_size,
        config.seed,
        first_step=first_epoch * steps_per_epoch,
    )
    test_data = make_dataset(
        dataset.x_test, dataset.y_test, EVALUATION_BATCH_SIZE, shuffle=False, seed=0
    )
    monitor_name = "test" if validation is None else "validation"
    monitor_x, monitor_y = (dataset.x_test, dataset.y_test) if validation is None else validation
    # Keras' per-epoch evaluate where a strategy spreads the model over devices or
    # processes; otherwise one compiled call (EpochValidation).
    own_validation = config.strategy == "default"
    monitor_data = (
        None
        if own_validation
        else make_dataset(monitor_x, monitor_y, EVALUATION_BATCH_SIZE, shuffle=False, seed=0)
    )

    previous = read_results(run_dir) if first_epoch else {}
    results = {
        "experiment": config.experiment,
        "run_dir": str(run_dir),
        "command": previous.get("command", command_line()),
        "config": config.to_dict(),
        "seed": config.seed,
        "versions": library_versions(),
        "parameters": int(model.count_params()),
        "train_samples": len(dataset.x_train),
        "test_samples": len(dataset.x_test),
        "validation_samples": 0 if validation is None else len(validation[0]),
        "steps_per_epoch": steps_per_epoch,
        "replicas": strategy.num_replicas_in_sync,
        "global_batch_size": global_batch_size,
        "resumed_at_epochs": previous.get("resumed_at_epochs", [])
        + ([first_epoch] if first_epoch else []),
        "status": "running",
    }
    timer = EpochTimer(previous.get("epoch_times_s", [])[:first_epoch])
    writers = RunWriters(run_dir)
    if not first_epoch:
        write_config(writers, {"experiment": config.experiment, **config.to_dict()}, run_dir.name)
    nan_guard = StopOnNaN()
    callbacks: list[keras.callbacks.Callback] = [
        # First, so every later callback sees the epoch's val_* numbers.
        *([EpochValidation(monitor_x, monitor_y, EVALUATION_BATCH_SIZE)] if own_validation else []),
        nan_guard,
        StopOnInterrupt(),
        ScalarLogger(writers, config.log_every, steps_per_epoch, monitor_name=monitor_name),
        GraphLogger(writers, train_data.element_spec, write=not first_epoch),
    ]
    test_images = image_view(dataset.x_test, dataset.image_shape)
    if config.images:
        callbacks.append(
            ConfusionMatrixCallback(
                run_dir / "images",
                dataset.x_test,
                dataset.y_test,
                png_dir=run_dir,
                images=test_images,
                every_epochs=config.images_every or default_images_every(epochs),
            )
        )
    if config.layer_statistics:
        callbacks.append(
            LayerStatistics(
                writers["train"],
                dataset.x_train[:PROBE_SAMPLES],
                config.stats_every,
                steps_per_epoch,
            )
        )
    callbacks += [
        *extra_callbacks,
        # After the logging callbacks, so an epoch's time includes its figures and
        # statistics; before the two that read it.
        timer,
        ProgressPrinter(epochs, timer, print_fn, monitor_name),
        ResultsProgress(run_dir, results, timer),
        # Last, so an epoch's summaries are flushed before it counts as done.
        EpochBackup(run_dir),
    ]
    write_results(run_dir, results)
    try:
        if multiworker:  # --- tf.distribute: Keras 3's fit fails under multi-worker
            from tfnn.distribute.loop import fit_distributed

            def make_local_model() -> keras.Model:
                with precision_policy(config):
                    return compile_model(build_model(), config, steps_per_epoch)

            model = fit_distributed(
                model,
                strategy,
                x_train=dataset.x_train,
                y_train=dataset.y_train,
                global_batch_size=global_batch_size,
                seed=config.seed,
                epochs=epochs,
                steps_per_epoch=steps_per_epoch,
                loss_reduction=getattr(config, "loss_reduction", "mean"),
                callbacks=callbacks,
                validation_data=monitor_data,
                make_local_model=make_local_model,
                chief=chief,
            )
        else:
            model.fit(
                train_data,
                validation_data=monitor_data,
                epochs=epochs,
                steps_per_epoch=steps_per_epoch,
                callbacks=callbacks,
                shuffle=False,  # the stream is already shuffled, pass by pass
                verbose=0,
            )
    except KeyboardInterrupt:
        results.update(status="interrupted", epoch_times_s=timer.epoch_times)
        write_results(run_dir, results)
        writers.close()
        raise
    if not chief:  # --- tf.distribute: the chief saves, evaluates and reports
        writers.close()
        return {**results, "status": "finished"}
    train_time = sum(timer.epoch_times)
    results.update(
        epochs_completed=len(timer.epoch_times),
        epoch_times_s=[round(t, 4) for t in timer.epoch_times],
        train_time_s=round(train_time, 3),
    )
    if nan_guard.bad_epoch is not None:
        results.update(status="diverged", wall_time_s=round(time.perf_counter() - started, 3))
        write_results(run_dir, results)
        writers.close()
        raise TrainingDiverged(
            f"the loss became NaN/Inf in epoch {nan_guard.bad_epoch}: try a lower "
            f"--learning-rate than {config.learning_rate:g} (logs kept in {run_dir})"
        )

    model.save(run_dir / "model.keras")
    if embedding_layer and config.embedding_samples > 0:
        count = config.embedding_samples
        write_layer_embedding(
            model,
            embedding_layer,
            dataset.x_test[:count],
            dataset.y_test[:count],
            run_dir,
            images=None if test_images is None else test_images[:count],
            seed=config.seed,
        )
    train_eval = make_dataset(
        dataset.x_train, dataset.y_train, EVALUATION_BATCH_SIZE, shuffle=False, seed=0
    )
    train_loss, train_accuracy = model.evaluate(train_eval, verbose=0)
    test_loss, test_accuracy = model.evaluate(test_data, verbose=0)
    metrics = {
        "train_loss": float(train_loss),
        "train_accuracy": float(train_accuracy),
        "test_loss": float(test_loss),
        "test_accuracy": float(test_accuracy),
    }
    write_final_metrics(writers, metrics, step=epochs)
    writers.close()
    results.update(
        status="finished",
        metrics=metrics,
        train_samples_per_second=round(
            steps_per_epoch * global_batch_size * len(timer.epoch_times) / max(train_time, 1e-9),
            1,
        ),
        wall_time_s=round(time.perf_counter() - started, 3),
    )
    write_results(run_dir, results)
    return results
