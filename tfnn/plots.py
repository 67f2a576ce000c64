"""Matplotlib figure makers for the TensorBoard image writers.

Figures are built with ``matplotlib.figure.Figure`` directly and rendered by
the Agg canvas, never through ``pyplot``: pyplot keeps every figure alive in a
global registry, which leaks memory in long runs and is not thread-safe.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tfnn.errors import DataError

# Mesh resolution per axis for decision boundaries: 200 x 200 = 40k points is
# smooth enough on screen and one cheap batched predict call.
GRID_SIZE = 200


def _new_figure(width: float, height: float) -> Figure:
    # Constrained layout keeps titles, colorbars and legends from overlapping.
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def figure_to_png(fig: Figure) -> bytes:
    """Renders ``fig`` to PNG bytes and releases it.

    The figure must not be used afterwards.
    """
    buffer = io.BytesIO()
    # The constrained layout already fits the figure: "tight" bbox would lay it out again.
    fig.savefig(buffer, format="png")
    # No fig.clear(): it resets every axes (~10 ms each) only to free what the garbage
    # collector frees anyway once the caller drops the figure.
    return buffer.getvalue()


def as_labels(y: np.ndarray | Sequence) -> np.ndarray:
    """Returns integer class ids from ids, ``(n, 1)`` columns or one-hot rows."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1).astype(np.int64)
    return y.reshape(-1).astype(np.int64)


def _name(label: int, class_names: Sequence[str] | None) -> str:
    if class_names is not None and 0 <= label < len(class_names):
        return str(class_names[label])
    return str(label)


def confusion_matrix_figure(cm: np.ndarray, class_names: Sequence[str] | None = None) -> Figure:
    """Draws a confusion matrix with the count written in every cell.

    Args:
        cm: ``(C, C)`` counts, rows are true classes and columns predictions.
        class_names: Tick labels; defaults to ``0 .. C-1``.
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise DataError(f"confusion matrix must be square, got shape {cm.shape}")
    n = cm.shape[0]
    names = [_name(i, class_names) for i in range(n)]
    size = max(4.0, 0.6 * n + 2.0)
    fig = _new_figure(size, size)
    ax = fig.add_subplot()
    image = ax.imshow(cm, interpolation="nearest", cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set(
        xticks=np.arange(n),
        yticks=np.arange(n),
        xticklabels=names,
        yticklabels=names,
        xlabel="Predicted label",
        ylabel="True label",
        title="Confusion matrix",
    )
    ax.tick_params(axis="x", labelrotation=45)
    # White text on dark cells, black on light ones, so every count stays legible.
    threshold = cm.max() / 2.0 if cm.size else 0.0
    fontsize = max(5, 12 - n // 4)
    for i in range(n):
        for j in range(n):
            ax.text(
                j,
                i,
                f"{cm[i, j]:g}",
                ha="center",
                va="center",
                fontsize=fontsize,
                color="white" if cm[i, j] > threshold else "black",
                # Inside the axes, so the layout need not measure them (C² texts, each
                # measured on every layout pass, were most of the drawing time).
                in_layout=False,
            )
    return fig


def misclassified_grid_figure(
    images: np.ndarray,
    true: np.ndarray | Sequence,
    predicted: np.ndarray | Sequence,
    max_images: int = 25,
    class_names: Sequence[str] | None = None,
) -> Figure:
    """Draws up to ``max_images`` images in a square grid, titled ``true -> predicted``.

    Args:
        images: ``(n, H, W)`` grey, ``(n, H, W, 1)`` or ``(n, H, W, 3)`` images,
            usually only the misclassified ones.
        true: True labels of ``images``.
        predicted: Predicted labels of ``images``.
        max_images: Cap on the number drawn.
        class_names: Names used in the titles instead of class ids.
    """
    images = np.asarray(images)[:max_images]
    true = as_labels(true)[:max_images]
    predicted = as_labels(predicted)[:max_images]
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 3):
        raise DataError(f"images must be (n, H, W[, 1 or 3]), got shape {images.shape}")
    count = len(images)
    if count == 0:
        fig = _new_figure(3, 3)
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no misclassified images", ha="center", va="center")
        ax.axis("off")
        return fig
    # One image of all the tiles in one axes: 25 axes of their own cost ~1 s to lay out
    # and draw, every time the figure is written during training.
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    height, width = images.shape[1:3]
    gap = max(1, width // 8)
    label = max(4, height // 3)  # room above each tile for its title
    cell_height, cell_width = label + height + gap, width + gap
    mosaic = np.full((rows * cell_height, cols * cell_width, *images.shape[3:]), np.nan)
    fig = _new_figure(1.6 * cols, 1.8 * rows)
    ax = fig.add_subplot()
    for k in range(count):
        row, col = divmod(k, cols)
        top, left = row * cell_height + label, col * cell_width
        mosaic[top : top + height, left : left + width] = _scaled(images[k])
        ax.text(
            left + width / 2,
            top - 0.5,
            f"{_name(true[k], class_names)} -> {_name(predicted[k], class_names)}",
            ha="center",
            va="bottom",
            fontsize=8,
            color="red",
            in_layout=False,  # inside the axes: nothing for the layout to make room for
        )
    if mosaic.ndim == 3:
        ax.imshow(np.nan_to_num(mosaic, nan=1.0), interpolation="nearest")
    else:
        gray = matplotlib.colormaps["gray"].with_extremes(bad="white")
        ax.imshow(mosaic, cmap=gray, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.axis("off")
    fig.suptitle("true -> predicted", fontsize=10)
    return fig


def _scaled(image: np.ndarray) -> np.ndarray:
    """``image`` scaled to [0, 1] on its own range, as imshow would show it alone."""
    image = image.astype(np.float32)
    low, high = float(image.min()), float(image.max())
    return (image - low) / (high - low) if high > low else np.zeros_like(image)


def decision_boundary_figure(
    predict_fn: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    y: np.ndarray | Sequence,
    title: str = "Decision boundary",
    grid_size: int = GRID_SIZE,
) -> Figure:
    """Draws a classifier's regions over 2-D inputs, with the data points on top.

    Args:
        predict_fn: Maps a ``(m, 2)`` float32 array to class probabilities
            ``(m, C)``, a probability of class 1 ``(m,)``/``(m, 1)``, or labels.
            It receives one batch of ``grid_size ** 2`` points.
        x: ``(n, 2)`` inputs.
        y: Labels of ``x`` (ids or one-hot).
        title: Axes title.
        grid_size: Mesh points per axis.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != 2:
        raise DataError(f"decision boundaries need 2-D inputs, got shape {x.shape}")
    labels = as_labels(y)
    # A 10% margin so points on the edge are not cut in half.
    low, high = x.min(axis=0), x.max(axis=0)
    margin = np.maximum((high - low) * 0.1, 1e-3)
    xs = np.linspace(low[0] - margin[0], high[0] + margin[0], grid_size)
    ys = np.linspace(low[1] - margin[1], high[1] + margin[1], grid_size)
    xx, yy = np.meshgrid(xs, ys)
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
    out = np.asarray(predict_fn(grid))
    if out.shape[0] != grid.shape[0]:
        raise DataError(f"predict_fn returned {out.shape[0]} rows for {grid.shape[0]} points")

    fig = _new_figure(6, 5)
    ax = fig.add_subplot()
    if out.ndim == 2 and out.shape[1] > 1:
        classes = np.argmax(out, axis=1).reshape(xx.shape)
        n_classes = max(out.shape[1], int(labels.max()) + 1)
        levels = np.arange(n_classes + 1) - 0.5
        ax.contourf(xx, yy, classes, levels=levels, cmap="tab10", vmin=0, vmax=9, alpha=0.3)
        ax.contour(xx, yy, classes, levels=levels, colors="k", linewidths=0.8)
    elif np.issubdtype(out.dtype, np.integer) and out.max(initial=0) > 1:
        classes = out.reshape(xx.shape)
        levels = np.arange(max(int(classes.max()), int(labels.max())) + 2) - 0.5
        ax.contourf(xx, yy, classes, levels=levels, cmap="tab10", vmin=0, vmax=9, alpha=0.3)
        ax.contour(xx, yy, classes, levels=levels, colors="k", linewidths=0.8)
    else:
        # One output is P(class 1) (or a 0/1 label): shade it and mark the 0.5 line.
        prob = out.reshape(xx.shape).astype(np.float32)
        shade = ax.contourf(xx, yy, prob, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.5)
        fig.colorbar(shade, ax=ax, label="P(class 1)")
        ax.contour(xx, yy, prob, levels=[0.5], colors="k", linewidths=1.2)
    ax.scatter(
        x[:, 0],
        x[:, 1],
        c=labels,
        cmap="tab10",
        vmin=0,
        vmax=9,
        s=12,
        edgecolors="k",
        linewidths=0.3,
    )
    ax.set(title=title, xlabel="x1", ylabel="x2")
    return fig


def scatter_figure(
    points2d: np.ndarray,
    labels: np.ndarray | Sequence,
    title: str = "t-SNE",
    class_names: Sequence[str] | None = None,
) -> Figure:
    """Draws 2-D points coloured by class with a legend (for t-SNE/PCA maps).

    Args:
        points2d: ``(n, 2)`` coordinates.
        labels: Class of every point (ids or one-hot).
        title: Axes title.
        class_names: Legend entries instead of class ids.
    """
    points2d = np.asarray(points2d)
    labels = as_labels(labels)
    if points2d.ndim != 2 or points2d.shape[1] != 2 or len(points2d) != len(labels):
        raise DataError(f"need (n, 2) points and n labels, got {points2d.shape} and {labels.shape}")
    classes = np.unique(labels)
    # tab10 repeats after 10 classes; tab20 keeps up to 20 classes distinct.
    cmap = "tab10" if len(classes) <= 10 else "tab20"
    fig = _new_figure(7, 6)
    ax = fig.add_subplot()
    palette = matplotlib.colormaps[cmap]
    for index, label in enumerate(classes):
        mask = labels == label
        ax.scatter(
            points2d[mask, 0],
            points2d[mask, 1],
            s=8,
            color=palette(index % palette.N),
            label=_name(int(label), class_names),
        )
    # Outside the axes: a t-SNE map has no empty corner to put it in.
    ax.legend(
        loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, markerscale=2, title="class"
    )
    ax.set(title=title, xticks=[], yticks=[])
    return fig
