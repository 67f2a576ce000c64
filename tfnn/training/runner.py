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
import tensorflow as tf

from tfnn.configs.common import TrainConfig
from tfnn.data.dataset import Dataset
from tfnn.errors import TrainingDiverged
from tfnn.results import command_line, library_versions, write_results
from tfnn.tensorboard.graph_logger import GraphLogger
from tfnn.tensorboard.hparams import write_config, write_final_metrics
from tfnn.tensorboard.images import ConfusionMatrixCallback
from tfnn.tensorboard.projector import write_layer_embedding
from tfnn.tensorboard.scalars import RunWriters, ScalarLogger
from tfnn.tensorboard.stats import LayerStatistics
from tfnn.training.callbacks import EpochTimer, ProgressPrinter, StopOnNaN
from tfnn.training.optimizers import make_optimizer
from tfnn.training.seeding import seed_everything

PROBE_SAMPLES = 256
EVALUATION_BATCH_SIZE = 1024
MAX_STEPS_PER_EXECUTION = 32


def resolve_steps_per_execution(requested: int, log_every: int) -> int:
    """Steps per compiled call: the requested value, or the largest divisor of
    ``log_every`` up to 32, so N-step logs land exactly on multiples of N."""
    if requested > 0:
        return requested
    return max(d for d in range(1, MAX_STEPS_PER_EXECUTION + 1) if log_every % d == 0)


def make_dataset(
    x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed: int
) -> tf.data.Dataset:
    """An in-memory ``tf.data`` pipeline: cache, seeded reshuffle per epoch, prefetch."""
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle:
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def make_loss(reduction: str = "mean") -> keras.losses.Loss:
    """Sparse categorical cross-entropy, averaged or summed over the batch."""
    keras_reduction = "sum" if reduction == "sum" else "sum_over_batch_size"
    return keras.losses.SparseCategoricalCrossentropy(reduction=keras_reduction)


def compile_model(model: keras.Model, config: TrainConfig) -> keras.Model:
    """Compiles ``model`` with the config's optimizer and execution settings."""
    model.compile(
        optimizer=make_optimizer(config.optimizer, config.learning_rate),
        loss=make_loss(getattr(config, "loss_reduction", "mean")),
        metrics=["accuracy"],
        steps_per_execution=resolve_steps_per_execution(
            config.steps_per_execution, config.log_every
        ),
        jit_compile=config.jit_compile,
    )
    return model


def plan_steps(config: TrainConfig, train_samples: int) -> tuple[int, int]:
    """(epochs, steps per epoch): whole passes, or the ``--steps`` budget cut into
    equal epochs of at most one pass each (exact when the budget divides evenly)."""
    steps_per_pass = math.ceil(train_samples / config.batch_size)
    if config.steps <= 0:
        return config.epochs, steps_per_pass
    epochs = math.ceil(config.steps / steps_per_pass)
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

    Args:
        config: The experiment's config; common fields come from ``TrainConfig``.
        dataset: Train/test arrays. Without ``validation`` the test set gives
            the per-epoch curves (as the seed reports plot them); the reported
            numbers always come from one final evaluation.
        build_model: Returns an uncompiled Keras model; called after seeding.
        run_dir: A fresh directory from ``tfnn.rundir.create_run_dir``.
        validation: Held-out training samples for the per-epoch curves.
        embedding_layer: Layer whose activations on test samples go to the
            Projector and a t-SNE plot after training.
        extra_callbacks: Experiment-specific callbacks (images, embeddings ...).
        print_fn: Where progress lines go.

    Returns:
        The content of ``results.json``.

    Raises:
        TrainingDiverged: The loss became NaN/Inf; logs and results are kept.
        KeyboardInterrupt: Re-raised after marking the results ``interrupted``.
    """
    started = time.perf_counter()
    seed_everything(config.seed, config.deterministic)
    model = compile_model(build_model(), config)
    (run_dir / "model.txt").write_text(_model_summary(model))

    epochs, steps_per_epoch = plan_steps(config, len(dataset.x_train))
    train_data = make_dataset(
        dataset.x_train, dataset.y_train, config.batch_size, shuffle=True, seed=config.seed
    )
    if config.steps > 0:
        train_data = train_data.repeat()
    test_data = make_dataset(
        dataset.x_test, dataset.y_test, EVALUATION_BATCH_SIZE, shuffle=False, seed=0
    )
    monitor_name = "test" if validation is None else "validation"
    monitor_data = (
        test_data
        if validation is None
        else make_dataset(*validation, EVALUATION_BATCH_SIZE, shuffle=False, seed=0)
    )

    writers = RunWriters(run_dir)
    write_config(writers, {"experiment": config.experiment, **config.to_dict()}, run_dir.name)
    timer = EpochTimer()
    nan_guard = StopOnNaN()
    callbacks: list[keras.callbacks.Callback] = [
        timer,
        nan_guard,
        ScalarLogger(writers, config.log_every, steps_per_epoch, monitor_name=monitor_name),
        GraphLogger(writers, train_data.element_spec),
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
            )
        )
    if config.layer_statistics:
        callbacks.append(
            LayerStatistics(
                writers["train"],
                dataset.x_train[:PROBE_SAMPLES],
                config.log_every,
                steps_per_epoch,
            )
        )
    callbacks += [*extra_callbacks, ProgressPrinter(epochs, timer, print_fn, monitor_name)]

    results = {
        "experiment": config.experiment,
        "run_dir": str(run_dir),
        "command": command_line(),
        "config": config.to_dict(),
        "seed": config.seed,
        "versions": library_versions(),
        "parameters": int(model.count_params()),
        "train_samples": len(dataset.x_train),
        "test_samples": len(dataset.x_test),
        "validation_samples": 0 if validation is None else len(validation[0]),
        "steps_per_epoch": steps_per_epoch,
        "status": "running",
    }
    write_results(run_dir, results)
    try:
        model.fit(
            train_data,
            validation_data=monitor_data,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch if config.steps > 0 else None,
            callbacks=callbacks,
            shuffle=False,  # the tf.data pipeline already reshuffles each epoch
            verbose=0,
        )
    except KeyboardInterrupt:
        results.update(status="interrupted", epoch_times_s=timer.epoch_times)
        write_results(run_dir, results)
        writers.close()
        raise
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
            steps_per_epoch * config.batch_size * len(timer.epoch_times) / max(train_time, 1e-9),
            1,
        ),
        wall_time_s=round(time.perf_counter() - started, 3),
    )
    write_results(run_dir, results)
    return results
