"""Decision maps: a classifier's regions over 2-D inputs, with the data on top."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from matplotlib.figure import Figure

from tfnn.errors import DataError
from tfnn.plots.canvas import new_figure
from tfnn.plots.labels import as_labels

# Mesh resolution per axis for decision boundaries: 200 x 200 = 40k points is
# smooth enough on screen and one cheap batched predict call.
GRID_SIZE = 200


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

    fig = new_figure(4.4, 3.6)  # about TensorBoard's image card, fonts legible in it
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
        s=6,
        edgecolors="k",
        linewidths=0.2,
    )
    ax.set(xlabel="x1", ylabel="x2")
    ax.set_title(title, fontsize=8)
    ax.tick_params(labelsize=7)
    return fig
