"""``tfnn.tensorboard.callbacks(log_dir)``: tfnn's whole TensorBoard view for any Keras model."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import keras
import numpy as np
from tensorboard.plugins.hparams import api as hp

from tfnn.tensorboard.graph import GraphLogger
from tfnn.tensorboard.hparams import HParams
from tfnn.tensorboard.images import ClassifierFigures
from tfnn.tensorboard.projector import Projector
from tfnn.tensorboard.scalars import ScalarLogger
from tfnn.tensorboard.stats import LayerStatistics
from tfnn.tensorboard.writers import RunWriters

Labelled = tuple[np.ndarray, np.ndarray]


def callbacks(
    log_dir: str | os.PathLike | RunWriters,
    *,
    hparams: Mapping | None = None,
    hparams_domains: Sequence[hp.HParam] | None = None,
    metrics: Sequence[hp.Metric] | None = None,
    settings: Mapping | None = None,
    log_every: int = 100,
    statistics_every: int = 100,
    probe: np.ndarray | Labelled | None = None,
    graph: bool = True,
    figures: Labelled | None = None,
    figure_images: np.ndarray | None = None,
    class_names: Sequence[str] | None = None,
    figures_every: int = 1,
    figures_png_dir: str | os.PathLike | None = None,
    projector: str | None = None,
    projector_data: Labelled | None = None,
    projector_images: np.ndarray | None = None,
    tsne: bool = False,
    validation_name: str = "validation",
    seed: int = 0,
) -> list[keras.callbacks.Callback]:
    """The Keras callbacks that give a model tfnn's TensorBoard view.

    ``model.fit(..., callbacks=tfnn.tensorboard.callbacks("logs/mine"))`` on any compiled
    Keras 3 model (Sequential, Functional, subclassed; numpy arrays, ``tf.data`` or
    generators) writes, into ``log_dir``:

    - scalars: loss and metrics every ``log_every`` steps and per epoch, train and
      validation overlaid (``train/``, ``validation/``), and the learning rate;
    - the op graph of the training step (Graphs tab, run ``.../train``);
    - per-layer statistics every ``statistics_every`` steps: histograms and
      min/max/mean/std of weights and biases, kernel norms; with a ``probe`` of
      labelled samples the gradients of the loss (histograms and norms), and net
      inputs and activations where the model exposes its layers' outputs
      (Functional, Sequential: not subclassed models);
    - with ``hparams``: an HParams session and the settings and model summary as text;
    - with ``figures``: a confusion matrix and misclassified samples every
      ``figures_every`` epochs (Images tab);
    - with ``projector``: the named layer's activations on ``projector_data`` (default:
      ``figures``) in the Projector, and with ``tsne`` a t-SNE plot (slow: opt-in).

    Steps come from the model's optimizer; writers flush at every epoch's end and
    close when training ends.

    Args:
        log_dir: The run's directory (one per run; TensorBoard's ``--logdir`` is its parent).
        hparams: Hyperparameter values to compare runs by (bool, int, float, str).
        hparams_domains: Their declarations with domains (default: one per value).
        metrics: The HParams metrics (default: accuracy and loss of validation and train).
        settings: What the Text tab shows (default: ``hparams``).
        log_every: Steps between step scalars (0: epoch scalars only).
        statistics_every: Steps between layer statistics (0: none).
        probe: A small fixed batch of training samples, ``x`` or ``(x, y)``, for
            activations and (with labels) gradients.
        graph: Write the training step's op graph.
        figures: ``(x, y)`` held-out samples of a classifier for the figures.
        figure_images: Displayable versions of ``figures``' x (enables the grid of
            misclassified samples), e.g. ``x.reshape(-1, 28, 28)``.
        class_names: Names of the classes in the figures and the Projector.
        figures_every: Epochs between figures.
        figures_png_dir: Also save the figures as PNG files here.
        projector: Name of the layer whose activations go to the Projector.
        projector_data: ``(x, y)`` for the Projector (default: ``figures``).
        projector_images: Sprite images for the Projector (default: ``figure_images``).
        tsne: Also draw a t-SNE plot of the projector's points.
        validation_name: Sub-run of Keras' ``val_*`` metrics.
        seed: Seeds the t-SNE.

    Returns:
        The callbacks, each also usable on its own.
    """
    writers = RunWriters.of(log_dir)
    result: list[keras.callbacks.Callback] = [
        ScalarLogger(writers, log_every, validation_name=validation_name)
    ]
    if graph:
        result.append(GraphLogger(writers))
    if statistics_every > 0:
        result.append(LayerStatistics(writers, probe, statistics_every))
    if hparams is not None:
        result.append(HParams(writers, hparams, hparams_domains, metrics, settings=settings))
    if figures is not None:
        result.append(
            ClassifierFigures(
                writers,
                *figures,
                png_dir=figures_png_dir,
                every_epochs=figures_every,
                class_names=class_names,
                images=figure_images,
            )
        )
    if projector is not None:
        data = projector_data if projector_data is not None else figures
        if data is None:
            raise ValueError("projector needs projector_data=(x, y) or figures=(x, y)")
        result.append(
            Projector(
                Path(writers.log_dir),
                projector,
                data,
                images=projector_images if projector_images is not None else figure_images,
                class_names=class_names,
                tsne=tsne,
                seed=seed,
            )
        )
    return result
