"""Scatter maps: 2-D points (t-SNE, PCA) coloured by class, with a legend."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from tfnn.errors import DataError
from tfnn.plots.canvas import new_figure
from tfnn.plots.labels import as_labels, class_name


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
    fig = new_figure(4.6, 3.6)  # about TensorBoard's image card, fonts legible in it
    ax = fig.add_subplot()
    palette = matplotlib.colormaps[cmap]
    for index, label in enumerate(classes):
        mask = labels == label
        ax.scatter(
            points2d[mask, 0],
            points2d[mask, 1],
            s=4,
            color=palette(index % palette.N),
            label=class_name(int(label), class_names),
        )
    # Outside the axes: a t-SNE map has no empty corner to put it in.
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=7,
        title_fontsize=7,
        markerscale=2,
        title="class",
    )
    ax.set(xticks=[], yticks=[])
    ax.set_title(title, fontsize=8)
    return fig
