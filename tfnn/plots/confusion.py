"""The confusion matrix: one figure, or the same figure redrawn with new counts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from tfnn.errors import DataError
from tfnn.plots.canvas import Redrawn, new_figure
from tfnn.plots.labels import class_name


def confusion_matrix_figure(
    cm: np.ndarray, class_names: Sequence[str] | None = None, vmax: float | None = None
) -> Figure:
    """Draws a confusion matrix with the count written in every cell.

    Args:
        cm: ``(C, C)`` counts, rows are true classes and columns predictions.
        class_names: Tick labels; defaults to ``0 .. C-1``.
        vmax: The count drawn darkest (default: the largest in ``cm``).
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise DataError(f"confusion matrix must be square, got shape {cm.shape}")
    n = cm.shape[0]
    vmax = float(cm.max(initial=0)) if vmax is None else float(vmax)
    names = [class_name(i, class_names) for i in range(n)]
    # About TensorBoard's image card (~350 px wide) at 100 dpi, with fonts sized for it:
    # a larger figure is shrunk to the card and its numbers cannot be read.
    size = max(3.6, 0.3 * n + 0.6)
    fig = new_figure(size, size)
    ax = fig.add_subplot()
    image = ax.imshow(cm, interpolation="nearest", cmap="Blues", vmin=0.0, vmax=vmax)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set(
        xticks=np.arange(n),
        yticks=np.arange(n),
        xticklabels=names,
        yticklabels=names,
        xlabel="Predicted label",
        ylabel="True label",
    )
    ax.set_title("Confusion matrix", fontsize=9)
    ax.xaxis.label.set_size(8)
    ax.yaxis.label.set_size(8)
    ax.tick_params(labelsize=7)
    ax.tick_params(axis="x", labelrotation=45)
    fontsize = max(5, 8 - n // 10)
    for i in range(n):
        for j in range(n):
            ax.text(
                j,
                i,
                f"{cm[i, j]:g}",
                ha="center",
                va="center",
                fontsize=fontsize,
                color=_count_colour(cm[i, j], vmax),
                # Inside the axes, so the layout need not measure them (C² texts, each
                # measured on every layout pass, were most of the drawing time).
                in_layout=False,
            )
    return fig


def _count_colour(count: float, vmax: float) -> str:
    # White text on dark cells, black on light ones, so every count stays legible.
    return "white" if count > vmax / 2.0 else "black"


class ConfusionMatrixPlot:
    """A confusion matrix drawn again and again with new counts (during training).

    Colours run from 0 to ``vmax`` in every drawing, so a shade means the same count
    in every epoch. A redraw takes ~70 ms where a new figure took ~300 ms (10 classes).
    """

    def __init__(self, n_classes: int, class_names: Sequence[str] | None, vmax: float):
        figure = confusion_matrix_figure(np.zeros((n_classes, n_classes)), class_names, vmax)
        ax = figure.axes[0]
        self.n_classes, self.vmax = n_classes, vmax
        self._image, self._counts = ax.images[0], list(ax.texts)
        # The spines too: drawn before the image, they would end up under it.
        self._drawn = Redrawn(figure, [self._image, *ax.spines.values(), *self._counts])

    def render(self, cm: np.ndarray) -> np.ndarray:
        """The figure for counts ``cm`` as an ``(H, W, 3)`` uint8 image."""
        cm = np.asarray(cm)
        self._image.set_data(cm)
        for text, count in zip(self._counts, cm.ravel(), strict=True):
            text.set_text(f"{count:g}")
            text.set_color(_count_colour(count, self.vmax))
        return self._drawn.render()
