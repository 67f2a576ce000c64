"""``train_and_evaluate``: one run of a classifier, from config to ``results.json``.

Every ``tfnn train ...`` experiment (and ``tfnn.train``) calls it with its config, data
and model builder; nothing here is specific to one experiment. It reads as the run
does: place, seed, plan, compile, record, fit with tfnn's TensorBoard view, save,
evaluate, record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np

from tfnn import tensorboard
from tfnn.configs.common import TrainConfig
from tfnn.data.dataset import Dataset
from tfnn.distribute.cluster import RUN_DIR_PREFIX
from tfnn.errors import TrainingDiverged
from tfnn.results import command_line
from tfnn.tensorboard.hparams import TFNN_HPARAMS, TFNN_METRICS, model_summary, write_final_metrics
from tfnn.tensorboard.writers import RunWriters
from tfnn.training.backup import EpochBackup, backed_up_epoch
from tfnn.training.callbacks import ProgressPrinter, StopOnInterrupt, StopOnNaN
from tfnn.training.fit import TrainingData, fit_model
from tfnn.training.placement import Placement, print_setup
from tfnn.training.plan import StepPlan, default_images_every, plan_steps
from tfnn.training.record import RunRecord
from tfnn.training.seeding import seed_everything
from tfnn.training.streams import EVALUATION_BATCH_SIZE, make_dataset

PROBE_SAMPLES = 256


def train_classifier(
    config: TrainConfig,
    dataset: Dataset,
    build_model: Callable[[], keras.Model],
    run_dir: Path,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    embedding_layer: str | None = None,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    print_fn: Callable[..., None] = print,
    command: str | None = None,
) -> dict:
    """Trains a softmax classifier and writes its TensorBoard logs and ``results.json``.

    A run killed at any point continues from its last finished epoch when called
    again with the same ``run_dir`` (its backup in ``run_dir/backup``); summaries are
    flushed only at epoch ends, so the resumed curves have neither gaps nor repeats.
    ``config.strategy`` places the run (one device, mirrored, multi-worker: only the
    chief writes into ``run_dir``).

    Args:
        config: The experiment's config.
        dataset: Train/test arrays. Without ``validation`` the test set gives the
            per-epoch curves (as the reports plot them); the reported numbers always
            come from one final evaluation.
        build_model: Returns an uncompiled Keras model; called after seeding.
        run_dir: A fresh directory from ``tfnn.rundir.create_run_dir``, or the
            directory of an interrupted run to resume.
        validation: Held-out training samples for the per-epoch curves.
        embedding_layer: Layer whose test-set activations go to the Projector and a
            t-SNE plot after training.
        extra_callbacks: Experiment-specific callbacks.
        print_fn: Where progress lines go.
        command: What started the run, for the record (default: this process's argv).

    Returns:
        The content of ``results.json``.

    Raises:
        TrainingDiverged: The loss became NaN/Inf; logs and results are kept.
        KeyboardInterrupt: Re-raised after marking the results ``interrupted``.
    """
    # First: collectives are set up when TensorFlow's runtime starts.
    placement = Placement.for_config(config)
    if placement.chief:
        print_setup(placement.strategy, config, print_fn)
        if placement.multiworker:
            print_fn(f"{RUN_DIR_PREFIX}{run_dir}", flush=True)
    seed_everything(config.seed, config.deterministic)
    plan = plan_steps(config, len(dataset.x_train), placement.global_batch_size)
    model = placement.compile(build_model, plan.steps_per_epoch)
    (run_dir / "model.txt").write_text(model_summary(model) + "\n")

    first_epoch = backed_up_epoch(run_dir)
    record = RunRecord.start(
        run_dir,
        first_epoch,
        command or command_line(),
        experiment=config.experiment,
        config=config.to_dict(),
        seed=config.seed,
        parameters=int(model.count_params()),
        train_samples=len(dataset.x_train),
        test_samples=len(dataset.x_test),
        validation_samples=0 if validation is None else len(validation[0]),
        steps_per_epoch=plan.steps_per_epoch,
        replicas=placement.replicas,
        global_batch_size=plan.global_batch_size,
    )
    monitor = "test" if validation is None else "validation"
    writers = RunWriters.of(run_dir)
    writers.hold()  # until the final numbers are written
    nan_guard = StopOnNaN()
    callbacks = [
        nan_guard,
        StopOnInterrupt(),
        *run_tensorboard(config, dataset, writers, plan, monitor, embedding_layer),
        *extra_callbacks,
        # After the logging callbacks, so an epoch's time includes its figures and
        # statistics; before the two that read it.
        record.timer,
        ProgressPrinter(plan.epochs, record.timer, print_fn, monitor),
        record.epoch_writer,
        # Last, so an epoch's summaries are flushed before it counts as done.
        EpochBackup(run_dir),
    ]
    data = TrainingData(
        dataset.x_train,
        dataset.y_train,
        config.seed,
        validation=validation or (dataset.x_test, dataset.y_test),
    )
    try:
        model = fit_model(
            model,
            data,
            plan,
            callbacks,
            placement,
            placement.local_model(build_model, plan.steps_per_epoch),
            first_epoch,
        )
    except KeyboardInterrupt:
        record.write(status="interrupted", **record.epochs_done())
        writers.release()
        raise
    if not placement.chief:
        writers.release()
        return {**record.content, "status": "finished"}
    if nan_guard.bad_epoch is not None:
        record.write(status="diverged", **record.epochs_done(), **record.wall_time())
        writers.release()
        raise TrainingDiverged(
            f"the loss became NaN/Inf in epoch {nan_guard.bad_epoch}: try a lower "
            f"{{learning_rate}} than {config.learning_rate:g} (logs kept in {run_dir})"
        )

    model.save(run_dir / "model.keras")
    metrics = evaluate(model, dataset)
    if monitor != "test":  # the test set's one point, beside the validation curve
        test = {name: value for name, value in metrics.items() if name.startswith("test_")}
        write_final_metrics(writers, test, step=plan.epochs)
    writers.release()
    return record.finish(metrics, plan.steps_per_epoch * plan.global_batch_size)


def run_tensorboard(
    config: TrainConfig,
    dataset: Dataset,
    writers: RunWriters,
    plan: StepPlan,
    monitor: str,
    embedding_layer: str | None,
) -> list[keras.callbacks.Callback]:
    """tfnn's TensorBoard callbacks (the public factory's) with the config's settings."""
    test_images = image_view(dataset.x_test, dataset.image_shape)
    embedding = embedding_layer if config.embedding_samples > 0 else None
    count = config.embedding_samples
    return tensorboard.callbacks(
        writers,
        hparams=run_hparams(config, plan, len(dataset.x_train)),
        hparams_domains=TFNN_HPARAMS,
        metrics=TFNN_METRICS,
        settings=config.to_dict(),
        log_every=config.log_every,
        statistics_every=config.stats_every if config.layer_statistics else 0,
        probe=(dataset.x_train[:PROBE_SAMPLES], dataset.y_train[:PROBE_SAMPLES]),
        figures=(dataset.x_test, dataset.y_test) if config.images else None,
        figure_images=test_images,
        figures_every=config.images_every or default_images_every(plan.epochs),
        figures_png_dir=writers.log_dir,
        projector=embedding,
        projector_data=(dataset.x_test[:count], dataset.y_test[:count]),
        projector_images=None if test_images is None else test_images[:count],
        tsne=True,
        validation_name=monitor,
        seed=config.seed,
    )


def run_hparams(config: TrainConfig, plan: StepPlan, train_samples: int) -> dict:
    """The config's hyperparameters, with ``epochs`` the passes over the training set
    the run makes (a fraction for a ``steps`` budget shorter than a pass)."""
    passes = plan.total_steps * plan.global_batch_size / train_samples
    epochs = config.epochs if config.steps <= 0 else round(passes, 3)
    return {**config.hparams(), "epochs": epochs}


def evaluate(model: keras.Model, dataset: Dataset) -> dict[str, float]:
    """Loss and accuracy on the whole training and test sets, in inference mode."""
    metrics = {}
    for name, x, y in (
        ("train", dataset.x_train, dataset.y_train),
        ("test", dataset.x_test, dataset.y_test),
    ):
        loss, accuracy = model.evaluate(
            make_dataset(x, y, EVALUATION_BATCH_SIZE, shuffle=False, seed=0), verbose=0
        )
        metrics[f"{name}_loss"], metrics[f"{name}_accuracy"] = float(loss), float(accuracy)
    return metrics


def image_view(x: np.ndarray, image_shape: tuple[int, ...] | None) -> np.ndarray | None:
    """Inputs reshaped to displayable images, or None when they are not images."""
    if image_shape is None:
        return None
    return x.reshape((len(x), *image_shape))
