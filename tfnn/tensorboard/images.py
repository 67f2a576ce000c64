"""Image summaries for TensorBoard's Images dashboard, with PNG copies on disk.

Every plot goes to the event file (to browse per step in TensorBoard) and,
when asked, to a plain PNG (for reports and the README) from the same bytes.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from sklearn.metrics import confusion_matrix
from tensorboard.plugins.image import metadata as image_metadata

from tfnn import plots
from tfnn.errors import DataError, TfnnError
from tfnn.files import replaced_whole
from tfnn.tensorboard.writers import RunWriters, WritingCallback, writing_into

# Every figure under one tag group: TensorBoard sorts groups by name and opens the
# first ones, so the figures come first in the Images view.
FIGURES_GROUP = "figures"
CONFUSION_MATRIX_TAG = f"{FIGURES_GROUP}/confusion_matrix"
MISCLASSIFIED_TAG = f"{FIGURES_GROUP}/misclassified"
DECISION_BOUNDARY_TAG = f"{FIGURES_GROUP}/decision_boundary"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _save_png(png_bytes: bytes, png_path: str | os.PathLike) -> Path:
    path = Path(png_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png_bytes)
    except OSError as error:
        raise TfnnError(f"cannot write {path}: {error.strerror or error}") from error
    return path


def _image_summary(tag: str, png_bytes: bytes, step: int) -> None:
    """Writes ``png_bytes`` to the default summary writer, as ``tf.summary.image`` would
    write them once encoded (width, height, PNG), without decoding and re-encoding."""
    if not png_bytes.startswith(PNG_MAGIC):
        raise DataError(f"{tag}: not PNG bytes")
    width, height = struct.unpack(">II", png_bytes[16:24])  # the IHDR chunk
    tf.summary.write(
        tag,
        tf.constant([str(width).encode(), str(height).encode(), png_bytes]),
        step=step,
        metadata=image_metadata.create_summary_metadata(display_name=None, description=None),
    )


def write_image(
    logdir: str | os.PathLike | RunWriters,
    tag: str,
    png_bytes: bytes,
    step: int,
    png_path: str | os.PathLike | None = None,
) -> None:
    """Writes one PNG as an image summary and optionally as a file.

    Args:
        logdir: Run directory receiving the event file.
        tag: Summary tag, e.g. ``figures/confusion_matrix``.
        png_bytes: Encoded PNG.
        step: Summary step (usually the epoch).
        png_path: Where to save the PNG too; ``None`` skips the file.
    """
    with writing_into(logdir):
        _image_summary(tag, png_bytes, step)
    if png_path is not None:
        _save_png(png_bytes, png_path)


def _confusion_png(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str] | None
) -> bytes:
    true, pred = plots.as_labels(y_true), plots.as_labels(y_pred)
    if len(true) != len(pred):
        raise DataError(f"{len(true)} true labels but {len(pred)} predictions")
    n_classes = len(class_names) if class_names is not None else 0
    n_classes = max(n_classes, int(true.max(initial=-1)) + 1, int(pred.max(initial=-1)) + 1)
    # Fixed label list so a class the model never predicts still gets a row/column.
    cm = confusion_matrix(true, pred, labels=np.arange(n_classes))
    return plots.figure_to_png(plots.confusion_matrix_figure(cm, class_names))


def _misclassified_png(
    images: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    class_names: Sequence[str] | None,
    max_images: int,
) -> bytes:
    true, pred = plots.as_labels(y_true), plots.as_labels(y_pred)
    if not len(images) == len(true) == len(pred):
        raise DataError(f"{len(images)} images, {len(true)} labels, {len(pred)} predictions")
    wrong = np.flatnonzero(true != pred)[:max_images]
    figure = plots.misclassified_grid_figure(
        np.asarray(images)[wrong], true[wrong], pred[wrong], max_images, class_names
    )
    return plots.figure_to_png(figure)


def write_confusion_matrix(
    logdir: str | os.PathLike,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    class_names: Sequence[str] | None,
    step: int,
    png_dir: str | os.PathLike | None,
    tag: str = CONFUSION_MATRIX_TAG,
) -> None:
    """Writes the confusion matrix of ``y_pred`` against ``y_true``.

    Labels may be class ids or one-hot rows. The PNG is saved as
    ``png_dir/confusion_matrix.png`` unless ``png_dir`` is ``None``.
    """
    png = _confusion_png(y_true, y_pred, class_names)
    png_path = None if png_dir is None else Path(png_dir) / "confusion_matrix.png"
    write_image(logdir, tag, png, step, png_path)


def write_misclassified(
    logdir: str | os.PathLike,
    images: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    step: int,
    png_dir: str | os.PathLike | None,
    tag: str = MISCLASSIFIED_TAG,
    class_names: Sequence[str] | None = None,
    max_images: int = 25,
) -> None:
    """Writes a grid of the first ``max_images`` images whose prediction is wrong.

    The PNG is saved as ``png_dir/misclassified.png`` unless ``png_dir`` is ``None``.
    """
    png = _misclassified_png(images, y_true, y_pred, class_names, max_images)
    png_path = None if png_dir is None else Path(png_dir) / "misclassified.png"
    write_image(logdir, tag, png, step, png_path)


def write_decision_boundary(
    logdir: str | os.PathLike,
    predict_fn: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    step: int,
    png_dir: str | os.PathLike | None,
    tag: str = DECISION_BOUNDARY_TAG,
    title: str | None = None,
) -> None:
    """Writes the decision regions of ``predict_fn`` over 2-D inputs ``x``.

    ``predict_fn`` gets a single ``(40000, 2)`` batch, so pass e.g.
    ``lambda g: model.predict(g, batch_size=8192, verbose=0)`` rather than the
    default 32-sample batches. The PNG is saved as ``png_dir/<name>.png`` (the tag's
    last part) unless ``png_dir`` is ``None``.
    """
    figure = plots.decision_boundary_figure(predict_fn, x, y, title or tag)
    png = plots.figure_to_png(figure)
    png_path = None if png_dir is None else Path(png_dir) / f"{tag.split('/')[-1]}.png"
    write_image(logdir, tag, png, step, png_path)


class ClassifierFigures(WritingCallback, keras.callbacks.Callback):
    """Writes the confusion matrix of held-out samples (and a grid of misclassified
    images) every few epochs, into the run's root in the Images tab.

    Summaries use step = epochs trained (as the epoch curves). The PNGs in ``png_dir``
    are overwritten each time, so the files left are those of the last epoch trained;
    if that epoch is not a multiple of ``every_epochs`` it is written at the end of
    training anyway.

    The predictions are made at the epoch's end; the figures are drawn on a thread
    of their own while training goes on (a drawing took ~0.13 s, two to three digits
    epochs) and written at a later epoch's end. Until then the epoch's predicted
    labels wait in ``log_dir/figures-pending/``, so a run killed in between draws them
    when it resumes.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike | RunWriters,
        x_test: np.ndarray,
        y_test: np.ndarray,
        png_dir: str | os.PathLike | None = None,
        every_epochs: int = 1,
        class_names: Sequence[str] | None = None,
        images: np.ndarray | None = None,
        batch_size: int = 1024,
        max_images: int = 25,
    ) -> None:
        """Initialises the callback.

        Args:
            log_dir: The run's log directory (or its shared writers).
            x_test: Model inputs.
            y_test: True labels (ids or one-hot).
            png_dir: Where ``confusion_matrix.png``/``misclassified.png`` go; ``None`` skips.
            every_epochs: Write after every this many epochs.
            class_names: Axis and title labels.
            images: Displayable versions of ``x_test`` (e.g. unflattened); enables
                the misclassified grid.
            batch_size: Prediction batch size; large since no gradients are kept.
            max_images: Cap on the misclassified grid.
        """
        super().__init__()
        if every_epochs < 1:
            raise ValueError(f"every_epochs must be >= 1, got {every_epochs}")
        self.writers = RunWriters.of(log_dir)
        self.pending_dir = self.writers.log_dir / "figures-pending"
        self.x_test = x_test
        self.y_test = plots.as_labels(y_test)
        self.png_dir = None if png_dir is None else Path(png_dir)
        self.every_epochs = every_epochs
        self.class_names = class_names
        self.images = None if images is None else np.asarray(images)
        self.batch_size = batch_size
        self.max_images = max_images
        self._inputs: tf.data.Dataset | None = None
        self._last_epoch: int | None = None
        self._last_requested: int | None = None
        self._confusion_plot: plots.ConfusionMatrixPlot | None = None
        self._misclassified_plot: plots.MisclassifiedPlot | None = None
        self._drawer: ThreadPoolExecutor | None = None
        self._drawing: tuple[int, Future] | None = None

    def _predictions(self) -> np.ndarray:
        """Predicted labels of ``x_test``."""
        if self._inputs is None:
            # Made once: predicting from numpy builds a new input pipeline every call,
            # which took twice as long as the prediction itself (10,000 MNIST images).
            self._inputs = (
                tf.data.Dataset.from_tensor_slices(self.x_test).batch(self.batch_size).cache()
            )
        out = np.asarray(self.model.predict(self._inputs, verbose=0))
        if out.ndim == 2 and out.shape[1] > 1:
            return np.argmax(out, axis=1)
        # A single sigmoid unit: P(class 1).
        return (out.reshape(-1) > 0.5).astype(np.int64)

    def _make_plots(self) -> None:
        # Drawn once and redrawn with new data: a new figure each time cost ~4x as much.
        # One sample tells the model's output width (a sigmoid unit: 2 classes).
        width = int(np.shape(self.model(self.x_test[:1], training=False))[-1])
        outputs = width if width > 1 else 2
        names = 0 if self.class_names is None else len(self.class_names)
        n_classes = max(names, outputs, int(self.y_test.max(initial=-1)) + 1)
        largest_class = np.bincount(self.y_test, minlength=n_classes).max(initial=0)
        self._confusion_plot = plots.ConfusionMatrixPlot(
            n_classes, self.class_names, vmax=float(largest_class)
        )
        if self.images is not None:
            self._misclassified_plot = plots.MisclassifiedPlot(
                self.images.shape[1:], self.max_images, self.class_names
            )

    def _draw(self, predicted: np.ndarray) -> dict[str, bytes]:
        """PNGs of the figures for ``predicted``, by summary tag."""
        cm = confusion_matrix(
            self.y_test, predicted, labels=np.arange(self._confusion_plot.n_classes)
        )
        pngs = {CONFUSION_MATRIX_TAG: plots.rgb_to_png(self._confusion_plot.render(cm))}
        if self._misclassified_plot is not None:
            wrong = np.flatnonzero(self.y_test != predicted)[: self.max_images]
            rgb = self._misclassified_plot.render(
                self.images[wrong], self.y_test[wrong], predicted[wrong]
            )
            pngs[MISCLASSIFIED_TAG] = plots.rgb_to_png(rgb)
        return pngs

    def _pending_path(self, epoch: int) -> Path:
        return self.pending_dir / f"epoch-{epoch:06d}.npy"

    def _write(self, epoch: int, pngs: dict[str, bytes]) -> None:
        with self.writers[""].as_default():
            for tag, png in pngs.items():
                _image_summary(tag, png, epoch + 1)
        self.writers.flush()
        if self.png_dir is not None:
            for tag, png in pngs.items():
                _save_png(png, self.png_dir / f"{tag.split('/')[-1]}.png")
        self._pending_path(epoch).unlink(missing_ok=True)

    def _finish_drawing(self, wait: bool) -> None:
        """Writes the figures being drawn once they are done (at once with ``wait``)."""
        if self._drawing is None:
            return
        epoch, future = self._drawing
        if wait or future.done():
            self._drawing = None
            self._write(epoch, future.result())

    def _request(self, epoch: int) -> None:
        predicted = self._predictions()
        path = self._pending_path(epoch)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with replaced_whole(path) as file:
                np.save(file, predicted.astype(np.int32))
        except OSError as error:
            raise TfnnError(f"cannot write {path}: {error.strerror or error}") from error
        self._finish_drawing(wait=True)  # one drawing at a time: no queue builds up
        self._drawing = (epoch, self._drawer.submit(self._draw, predicted))
        self._last_requested = epoch

    def _draw_leftovers(self) -> None:
        """Draws what a killed run predicted but did not write."""
        for path in sorted(self.pending_dir.glob("epoch-*.npy")):
            epoch = int(path.stem.removeprefix("epoch-"))
            self._write(epoch, self._draw(np.load(path)))

    def on_train_begin(self, logs=None) -> None:
        super().on_train_begin(logs)
        # Set up before the first epoch, like the model's own tracing: a bad image
        # shape fails now rather than epochs into the run.
        self._make_plots()
        self._draw_leftovers()
        self._drawer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tfnn-figures")

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self._last_epoch = epoch
        self._finish_drawing(wait=False)
        if (epoch + 1) % self.every_epochs == 0:
            self._request(epoch)

    def on_train_end(self, logs=None) -> None:
        try:
            if self._last_epoch is not None and self._last_requested != self._last_epoch:
                self._request(self._last_epoch)
            self._finish_drawing(wait=True)
        finally:
            if self._drawer is not None:
                self._drawer.shutdown()
                self._drawer = None
            if self.pending_dir.is_dir() and not any(self.pending_dir.iterdir()):
                self.pending_dir.rmdir()
            if self.pending_dir.is_dir() and not any(self.pending_dir.iterdir()):
                self.pending_dir.rmdir()
            super().on_train_end(logs)
